"""Crawl benchmark: many small shops on distinct loopback hosts, politeness on, next to `scrapy bench`.

    .venv/bin/python bench/crawl.py                    # 60 shops × 20 products, CRAWL_DELAY as configured
    .venv/bin/python bench/crawl.py --shops 100 --products 50 --delay 0 --rounds 3

Serves ``--shops`` shop sites (tests/hostile_sites.py: robots.txt, sitemap, JSON-LD
product pages) on 127.0.2.1.., writes their ``sources.yaml``, runs ``emplettes crawl`` in a
subprocess exactly as the scheduler would (robots.txt, AutoThrottle, 2 requests per host,
HTTP cache, run files, manifests) and prints pages/s, product pages/s, CPU seconds and the
crawl process's resident memory (peak, and per round to show whether it stays flat). Then
runs ``scrapy bench`` (link following on a local server, no extraction) for reference.
The shop servers run in this process and share the machine's cores with the crawler.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from hostile_sites import ShopFarm  # noqa: E402


def rss_sampler(pid: int, samples: list[int], stop: threading.Event) -> None:
    """Resident memory (kB) of the crawl process, every 0.2 s."""
    while not stop.wait(0.2):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            samples.extend(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
        except OSError:
            return


def crawl_round(env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "crawl"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=rss_sampler, args=(process.pid, samples, stop), daemon=True)
    sampler.start()
    _, err = process.communicate()
    wall = time.perf_counter() - start
    stop.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"crawl failed:\n{err[-3000:]}")
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "rss_peak_mb": max(samples, default=0) / 1024,
        "rss_end_mb": (samples[-1] if samples else 0) / 1024,
        # resident memory at each tenth of the run: flat, or growing?
        "rss_timeline_mb": [samples[min(len(samples) - 1, i * len(samples) // 10)] / 1024 for i in range(11)]
        if samples
        else [],
    }


def manifests(runs_dir: Path, since: set[Path]) -> list[dict]:
    new = [p for p in runs_dir.glob("*/*.json") if p not in since]
    since.update(new)
    return [json.loads(p.read_text()) for p in new]


def scrapy_bench(seconds: int) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "bench", "-s", f"CLOSESPIDER_TIMEOUT={seconds}", "-s", "LOG_LEVEL=INFO"],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),
        timeout=seconds + 60,
    )
    text = result.stderr
    responses = re.search(r"'response_received_count': (\d+)", text)
    elapsed = re.search(r"'elapsed_time_seconds': ([\d.]+)", text)
    if not (responses and elapsed):
        return {"error": text[-500:]}
    return {
        "pages": int(responses.group(1)),
        "seconds": float(elapsed.group(1)),
        "pages_per_s": int(responses.group(1)) / float(elapsed.group(1)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=60)
    parser.add_argument("--products", type=int, default=20, help="products (pages) per shop")
    parser.add_argument("--delay", type=float, default=None, help="CRAWL_DELAY (default: the configured one, 0.5)")
    parser.add_argument("--rounds", type=int, default=1, help="crawl again N times (HTTP cache: conditional requests)")
    parser.add_argument("--scrapy-bench-seconds", type=int, default=10)
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory(prefix="emplettes-bench-") as tmp,
        ShopFarm(args.shops, products=args.products) as farm,
    ):
        root = Path(tmp)
        (root / "sources.yaml").write_text(farm.sources_yaml())
        env = {**os.environ, "DATA_DIR": str(root / "data"), "SOURCES_FILE": str(root / "sources.yaml")}
        if args.delay is not None:
            env["CRAWL_DELAY"] = str(args.delay)
        delay = env.get("CRAWL_DELAY", "0.5")
        print(
            f"{args.shops} shops × {args.products} products on 127.0.2.1-{args.shops}, CRAWL_DELAY={delay}, "
            f"robots.txt, AutoThrottle, 2 requests/host, HTTP cache; {os.cpu_count()} CPUs"
        )
        seen: set[Path] = set()
        for n in range(1, args.rounds + 1):
            for shop in farm.shops:
                shop.revision = n  # new prices each round
            figures = crawl_round(env)
            runs = manifests(root / "data" / "runs", seen)
            pages = sum(m.get("pages", 0) for m in runs)
            products = sum(m.get("products", 0) for m in runs)
            errors = sum(m.get("page_errors", 0) for m in runs)
            print(
                f"round {n}: {pages} pages, {products} products, {errors} errors in {figures['wall']:.1f} s → "
                f"{pages / figures['wall']:.1f} pages/s, {products / figures['wall']:.1f} product pages/s; "
                f"CPU {figures['cpu']:.1f} s ({100 * figures['cpu'] / figures['wall']:.0f}% of one core); "
                f"crawl RSS peak {figures['rss_peak_mb']:.0f} MB, at end {figures['rss_end_mb']:.0f} MB"
            )
            print(
                "  crawl RSS at each tenth of the run (MB): "
                + " ".join(f"{mb:.0f}" for mb in figures["rss_timeline_mb"])
            )
            if products < args.shops * args.products:
                print(f"  ! expected {args.shops * args.products} products")

    print(f"scrapy bench ({args.scrapy_bench_seconds} s, link following only, no extraction, no politeness):", end=" ")
    reference = scrapy_bench(args.scrapy_bench_seconds)
    if "error" in reference:
        print("failed:", reference["error"])
    else:
        print(f"{reference['pages']} pages in {reference['seconds']:.1f} s → {reference['pages_per_s']:.1f} pages/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
