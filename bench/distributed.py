"""Distributed crawl benchmark: 1 vs N crawl workers sharing each shop's queue in Redis.

    .venv/bin/python bench/distributed.py                       # 40 shops × 30 products, 1 then 2 workers
    .venv/bin/python bench/distributed.py --shops 60 --workers 1,2,3 --delay 0.5

Needs Debian's ``redis-server`` and the ``[distributed]`` extra. Starts a private
redis-server on 127.0.0.1, serves ``--shops`` shop sites on 127.0.2.1.. (tests/hostile_sites.py,
in this process), then for each worker count starts that many ``emplettes crawl`` processes
at once, each with its own DATA_DIR (as separate machines would have) and ``REDIS_URL`` set,
in a fresh crawl round. Prints pages/s over the wall-clock time until the last worker
ends, the pages each worker fetched, CPU and peak memory per worker, and checks that no
page was fetched twice. On one machine the workers share its cores with each other and
with the shop servers: the figures show the mechanism's overhead and balance, not what
N machines would reach.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from crawl import rss_sampler  # noqa: E402
from hostile_sites import ShopFarm  # noqa: E402


class CountingFarm(ShopFarm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests: Counter[tuple[int, str]] = Counter()
        self._lock = threading.Lock()

    def _app(self, shop):
        app = super()._app(shop)

        def counting(environ, start_response):
            with self._lock:
                self.requests[(shop.number, environ.get("PATH_INFO", ""))] += 1
            return app(environ, start_response)

        return counting


def start_redis(tmp: Path) -> tuple[subprocess.Popen, str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found (Debian: apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def run_workers(count: int, root: Path, base_env: dict, round_id: str) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    workers, samples, stops = [], [], []
    for n in range(count):
        env = {**base_env, "DATA_DIR": str(root / round_id / f"worker{n + 1}"), "CRAWL_ROUND": round_id}
        process = subprocess.Popen(
            [sys.executable, "-m", "emplettes.cli", "crawl"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        rss: list[int] = []
        stop = threading.Event()
        threading.Thread(target=rss_sampler, args=(process.pid, rss, stop), daemon=True).start()
        workers.append(process)
        samples.append(rss)
        stops.append(stop)
    for process, stop in zip(workers, stops, strict=False):
        _, err = process.communicate()
        stop.set()
        if process.returncode != 0:
            raise SystemExit(f"worker failed:\n{err[-3000:]}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    per_worker = []
    for n in range(count):
        runs = [json.loads(p.read_text()) for p in (root / round_id / f"worker{n + 1}" / "runs").glob("*/*.json")]
        per_worker.append(
            {
                "pages": sum(r.get("pages", 0) for r in runs),
                "products": sum(r.get("products", 0) for r in runs),
                "rss_peak_mb": max(samples[n], default=0) / 1024,
            }
        )
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "workers": per_worker,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=40)
    parser.add_argument("--products", type=int, default=30)
    parser.add_argument("--delay", type=float, default=0.0, help="CRAWL_DELAY (default 0: the machine's limit)")
    parser.add_argument("--workers", default="1,2", help="worker counts to measure, e.g. 1,2,3")
    parser.add_argument("--keep", action="store_true", help="keep the data directories (worker logs) and print where")
    args = parser.parse_args()
    kept = tempfile.mkdtemp(prefix="emplettes-dbench-") if args.keep else None  # Python 3.11: no delete=False
    with contextlib.nullcontext(kept) if kept else tempfile.TemporaryDirectory(prefix="emplettes-dbench-") as tmp:
        if kept:
            print("data kept in", tmp)
        root = Path(tmp)
        redis, url = start_redis(root)
        try:
            with CountingFarm(args.shops, products=args.products) as farm:
                (root / "sources.yaml").write_text(farm.sources_yaml())
                env = {
                    **os.environ,
                    "SOURCES_FILE": str(root / "sources.yaml"),
                    "CRAWL_DELAY": str(args.delay),
                    "REDIS_URL": url,
                }
                print(
                    f"{args.shops} shops × {args.products} products on 127.0.2.1-{args.shops}, "
                    f"CRAWL_DELAY={args.delay}, robots.txt, AutoThrottle, 2 requests/host per worker; "
                    f"{os.cpu_count()} CPUs, Redis {url}"
                )
                for count in (int(x) for x in args.workers.split(",")):
                    farm.requests.clear()
                    for shop in farm.shops:
                        shop.revision += 1
                    result = run_workers(count, root, env, f"bench-{count}w-{int(time.time())}")
                    pages = sum(w["pages"] for w in result["workers"])
                    products = sum(w["products"] for w in result["workers"])
                    repeated = {k: n for k, n in farm.requests.items() if n > 1 and k[1] != "/robots.txt"}
                    twice = len(repeated)
                    print(
                        f"{count} worker(s): {pages} pages, {products} products in {result['wall']:.1f} s → "
                        f"{pages / result['wall']:.1f} pages/s, {products / result['wall']:.1f} product pages/s; "
                        f"CPU {result['cpu']:.1f} s; pages fetched more than once (retries included): {twice} "
                        f"{sorted(repeated)[:5] if repeated else ''}"
                    )
                    for n, worker in enumerate(result["workers"], 1):
                        print(
                            f"  worker {n}: {worker['pages']} pages, {worker['products']} products, "
                            f"RSS peak {worker['rss_peak_mb']:.0f} MB"
                        )
        finally:
            redis.terminate()
            redis.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
