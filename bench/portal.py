"""Serving benchmark: the portal under its production server, driven by wrk on loopback.

    .venv/bin/python bench/portal.py                                  # 1,000,000 products, temporary index
    .venv/bin/python bench/portal.py --index /tmp/portal1m --keep     # build once, reuse afterwards
    .venv/bin/python bench/portal.py --index /tmp/portal1m --keep --servers 1x8,2x1,3x1,2x4
    .venv/bin/python bench/portal.py --index /tmp/portal1m --keep --servers 2x1 --cold   # worst case only

Builds (or reuses) a tantivy index of ``--products`` synthetic products with the generator
of ``bench/search.py``, starts ``emplettes serve --workers W --threads T`` as a subprocess
on 127.0.0.1 for each server shape (``1xT`` = waitress with T threads, ``Wx1`` = gunicorn
sync workers, ``WxT`` = gunicorn gthread workers), and drives ``/api/search`` and the
results page ``/recherche`` with wrk through a Lua script, sending ``Accept-Encoding:
gzip`` as browsers do. The searches are made by the search benchmark's query generators
(text, filters, sorts, pages, near a town or a position), and come as two kinds of traffic:

* ``zipf`` — what a portal sees: a pool of ``--pool`` distinct searches (20,000), the
  simplest the most popular, drawn with a seeded Zipf law P(rank r) ~ 1/r^s (``--zipf``,
  s = 1), so popular searches repeat and the long tail does not. Each server is first
  sent ``--prime`` requests of that stream (a portal that has served a while has), then
  every run continues the stream. It prints the share of distinct URLs and the facet
  cache hit ratio that stream should give (an LRU of ``SEARCH_CACHE_SIZE`` per process);
* ``cold`` (``--cold`` alone) — the worst case: every request a search whose facets no
  other request of the run shares, so every facet count is computed.

The API rate limit is switched off for the run (``API_RATE_LIMIT=off``); the servers keep
their other settings (``RESPONSE_CACHE_SECONDS`` included) from the environment. All servers start
first, then take turns for ``--rounds`` rounds, so a burst of load from elsewhere on this
shared machine does not fall on one of them only; prints p50/p90/p99 and requests/s per
traffic, endpoint and shape with the load average, then the median of the rounds. It also
prints the server processes' CPU time per request, which that other load barely changes: two idle cores
serve at most about 2000 / (CPU ms per request) requests/s.

Targets at 1M products (issue 6): p99 <= 30 ms and >= 300 requests/s for each endpoint.
This prints figures; it asserts nothing.

    .venv/bin/python bench/portal.py --flood --products 200000 --shops 1000 --servers 2x4

``--flood`` is the directory scenario instead (issue 18): one resident searches
(``/recherche``, the zipf stream, one connection) while ``--connections`` clients ask for
``/boutiques`` pages (every page, every town) as fast as the server answers, then the same
flood of ``/robots.txt`` (the cheapest page: what any flood costs, the reference). It prints
the resident's p50/p99 alone and under each flood, in alternating rounds, their ratio
(target: p50 within 2× of the quiet value), the flood's requests/s and share of 429s.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import TOWNS, faceted_queries, geo_queries, make_products, make_shops, shop_records  # noqa: E402

from indexer.backends.base import SearchQuery  # noqa: E402

WRK_MISSING = "wrk not found: install it with `apt-get update && apt-get install -y wrk` (Debian's package)"
ENDPOINTS = {"api": "/api/search", "page": "/recherche"}
RADII = (1, 5, 10, 25)


# ---------------------------------------------------------------- the catalogue


def build_index(index_dir: Path, products: int, shops: list[dict], seed: int, keep: bool, batch: int = 20_000) -> int:
    """Index ``products`` bench products (unless ``keep`` and the index has some); returns the count."""
    from indexer.backends.tantivy import TantivyBackend

    backend = TantivyBackend(index_dir)
    try:
        have = int(backend.stats().get("products") or 0)
        if keep and have:
            print(f"index: reusing {index_dir} ({have:,} products)")
            return have
        print(f"index: building {products:,} products from {len(shops):,} shops in {index_dir}", flush=True)
        start = time.perf_counter()
        backend.upsert(shop_records(shops))
        done = 0
        while done < products:
            records = list(make_products(min(batch, products - done), shops, seed, done))
            backend.upsert(records)
            done += len(records)
            if done % 200_000 == 0:
                print(f"  {done:,} products, {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        backend.close()  # waits for merges
    print(f"index: built in {time.perf_counter() - start:.0f} s")
    return products


# ---------------------------------------------------------------- the URLs


def query_params(query: SearchQuery, rng: random.Random, towns: list = TOWNS) -> list[tuple[str, str]]:
    """The query string a resident's browser would send for ``query`` (``towns``: the picker's)."""
    pairs: list[tuple[str, str]] = []
    if query.text:
        pairs.append(("q", query.text))
    for name, values in query.filters.items():
        pairs.extend((name, value) for value in values)
    if query.near and rng.random() < 0.5:  # the town picker: "près de Laval", 1 to 25 km
        town = min(towns, key=lambda t: (t[1] - query.near.lat) ** 2 + (t[2] - query.near.lon) ** 2)[0]
        pairs += [("near", town), ("radius", str(rng.choice(RADII)))]
    elif query.near:  # "près de moi": the browser's position
        pairs += [
            ("lat", f"{query.near.lat:.4f}"),
            ("lon", f"{query.near.lon:.4f}"),
            ("radius", str(rng.choice(RADII))),
        ]
    if rng.random() < 0.1:
        pairs.append(("price_max", rng.choice(["10", "20", "50"])))
    if rng.random() < 0.1:
        pairs.append(("services", rng.choice(["click_and_collect", "delivery"])))
    if query.sort != ("distance" if query.near and not query.text else "relevance"):
        pairs.append(("sort", query.sort))
    if query.page > 1:
        pairs.append(("page", str(query.page)))
    return pairs


def bench_urls(shops: list[dict], seed: int, count: int) -> list[str]:
    """``count`` distinct query strings (without the path), the simplest first: 2/3 faceted,
    1/3 near a town or a position. Rank is popularity: "miel" is searched far more often
    than "thé" in two towns under 20 € sorted by price, and positions ("près de moi") are
    nearly all different."""
    rng = random.Random(seed + 2)
    with_shops = {shop["town"] for shop in shops}
    towns = [town for town in TOWNS if town[0] in with_shops]
    seen: dict[str, int] = {}
    for _ in range(20):  # the generators repeat themselves: draw until there are enough
        want = count - len(seen) + 100
        for query in faceted_queries(shops, rng, want * 2 // 3 + 1) + geo_queries(rng, want // 3 + 1):
            pairs = query_params(query, rng, towns)
            seen.setdefault(urlencode(pairs), len(pairs))
        if len(seen) >= count:
            break
    urls = list(seen)
    rng.shuffle(urls)
    urls.sort(key=seen.__getitem__)  # stable: random within the same number of parameters
    return urls[:count]


def facet_key(query_string: str) -> str:
    """What the backend's facet cache keys on: the query without its sort and page."""
    return "&".join(p for p in query_string.split("&") if not p.startswith(("sort=", "page=")))


def zipf_draws(pool: int, exponent: float, count: int, seed: int) -> list[int]:
    """``count`` ranks in ``range(pool)`` drawn with probability proportional to 1 / (rank + 1) ** s."""
    weights = [1 / (rank + 1) ** exponent for rank in range(pool)]
    return random.Random(seed + 3).choices(range(pool), weights=weights, k=count)


def cache_hit_ratio(keys: list[str], processes: int, cache_size: int, seed: int, skip: int = 0) -> float:
    """The share of ``keys[skip:]`` an LRU of ``cache_size`` per process would answer, each
    request going to one of ``processes`` at random (sync workers accept in turn, unordered)."""
    from collections import OrderedDict

    caches = [OrderedDict() for _ in range(processes)]
    rng = random.Random(seed + 4)
    hits = 0
    for n, key in enumerate(keys):
        cache = caches[rng.randrange(processes)]
        if key in cache:
            cache.move_to_end(key)
            hits += n >= skip
        elif cache_size > 0:
            cache[key] = None
            if len(cache) > cache_size:
                cache.popitem(last=False)
    return hits / max(len(keys) - skip, 1)


def prime(base: str, paths: list[str], connections: int) -> None:
    """Send ``paths`` (the start of a stream of traffic) as fast as the server answers: a
    portal that has served for a while has its popular searches' facets in its caches."""
    from concurrent.futures import ThreadPoolExecutor

    def get(path: str) -> None:
        request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(get, paths))


def lua_script(path: str, query_strings: list[str], sequence: list[int] | None = None) -> str:
    """A wrk script sending the URLs in ``sequence`` order (default: each in turn), from the
    position given after ``--`` on wrk's command line, so that successive runs continue one
    stream of traffic instead of replaying it; wrk thread ``k`` starts ``k * 7919`` further on."""

    def quote(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    items = ",\n".join(quote(f"{path}?{qs}" if qs else path) for qs in query_strings)
    order = ",".join(str(i + 1) for i in (sequence if sequence is not None else range(len(query_strings))))
    return f"""-- generated by bench/portal.py
local paths = {{
{items}
}}
local order = {{{order}}}
local n = #order
wrk.headers["Accept-Encoding"] = "gzip, deflate, br"  -- as every browser sends: the cost of gzip is counted
local start = 0
local counter = 0
function setup(thread)
  thread:set("k", counter)
  counter = counter + 1
end
function init(args)
  start = tonumber(args[1] or "0") + (k or 0) * 7919
end
local i = -1  -- wrk asks for one request it does not send when a thread starts
function request()
  local path = paths[order[((start + i) % n) + 1]]
  i = i + 1
  return wrk.format("GET", path)
end
"""


# ---------------------------------------------------------------- the server


@dataclass(frozen=True)
class Shape:
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Shape:
        workers, _, threads = text.partition("x")
        return cls(int(workers), int(threads or 1))

    @property
    def kind(self) -> str:
        if self.workers == 1:
            return f"waitress, 1 process x {self.threads} threads"
        worker_class = "gthread" if self.threads > 1 else "sync"
        return f"gunicorn {worker_class}, {self.workers} workers x {self.threads} threads"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(base: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("server not ready in time")


def start_server(shape: Shape, data_dir: Path, port: int, log: Path, cache_size: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "API_RATE_LIMIT": "off",
        "PYTHONUNBUFFERED": "1",
        "SEARCH_CACHE_SIZE": str(cache_size),
    }
    command = [
        sys.executable,
        "-m",
        "emplettes.cli",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(shape.workers),
        "--threads",
        str(shape.threads),
    ]
    with open(log, "ab") as out:  # a file, not a pipe: a full pipe would stall the server
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # gunicorn's arbiter stops its workers; waitress exits
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ---------------------------------------------------------------- wrk


@dataclass
class WrkResult:
    p50: float
    p90: float
    p99: float
    rps: float
    requests: int
    errors: int
    cpu_ms: float = 0.0  # server CPU per request: what the figures would be without other load


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> WrkResult:
    """Percentiles, throughput and failures from ``wrk --latency`` output."""
    pct = {m.group(1): _ms(m.group(2)) for m in re.finditer(r"^\s+(50|90|99)%\s+(\S+)", output, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(map(int, socket_errors.groups()))
    return WrkResult(pct["50"], pct["90"], pct["99"], rps, requests, errors)


def run_wrk(url: str, script: Path, *, duration: float, connections: int, threads: int, start: int = 0) -> WrkResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "5s",
        "-s",
        str(script),
        url,
        "--",
        str(start),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output)


def median_result(runs: list[WrkResult]) -> WrkResult:
    pick = lambda values: statistics.median(values)  # noqa: E731
    return WrkResult(
        pick([r.p50 for r in runs]),
        pick([r.p90 for r in runs]),
        pick([r.p99 for r in runs]),
        pick([r.rps for r in runs]),
        sum(r.requests for r in runs),
        sum(r.errors for r in runs),
        pick([r.cpu_ms for r in runs]),
    )


def print_header() -> None:
    print(
        f"{'server':<44} {'traffic':<7} {'endpoint':<12} "
        f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'req/s':>7} {'errors':>6} "
        f"{'CPU ms/req':>10}        load (1 min/5 min) before -> after"
    )


def print_row(shape: Shape, traffic: str, endpoint: str, result: WrkResult, loads: str) -> None:
    verdict = "ok" if result.p99 <= 30 and result.rps >= 300 and not result.errors else "MISS"
    print(
        f"{shape.kind:<44} {traffic:<7} {ENDPOINTS[endpoint]:<12} "
        f"{result.p50:7.2f} {result.p90:7.2f} {result.p99:7.2f} "
        f"{result.rps:7.0f} {result.errors:6d} {result.cpu_ms:10.2f}  {verdict:<4}  {loads}",
        flush=True,
    )


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by ``pid`` and its child processes (Linux /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(times.get(p, 0.0) for p in tree)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}"


def directory_paths(shops: list[dict]) -> list[str]:
    """Query strings of every /boutiques page a client can reach: pages, towns, categories."""
    from portal.shops import DIRECTORY_PER_PAGE

    pages = max(1, -(-len(shops) // DIRECTORY_PER_PAGE))
    towns = sorted({shop["town"] for shop in shops})
    categories = sorted({c for shop in shops for c in shop["categories"]})
    return (
        [""]
        + [urlencode({"page": n}) for n in range(2, pages + 1)]
        + [urlencode({"town": town}) for town in towns]
        + [urlencode({"category": category}) for category in categories]
    )


def flood(
    args,
    shapes: list[Shape],
    shops: list[dict],
    data_dir: Path,
    pool: list[str],
    draws: list[int],
    workdir: Path,
    cache_size: int,
) -> int:
    """A resident's searches, alone and while ``--connections`` clients flood /boutiques; the
    same flood of /robots.txt, the cheapest page, is the reference: what any flood costs."""
    from config import Config

    if args.directory_limit is not None:
        os.environ["DIRECTORY_RATE_LIMIT"] = args.directory_limit  # start_server passes the environment on
    resident = workdir / "resident.lua"
    resident.write_text(lua_script(ENDPOINTS["page"], pool, draws))
    floods = {"/boutiques": workdir / "flood.lua", "/robots.txt": workdir / "reference.lua"}
    floods["/boutiques"].write_text(lua_script("/boutiques", directory_paths(shops)))
    floods["/robots.txt"].write_text(lua_script("/robots.txt", [""]))
    log = workdir / "server.log"
    print(
        f"\nflood: {len(shops):,} shops; the resident: wrk -c1 on /recherche (zipf stream), {args.duration:g} s "
        f"per run; the flood: wrk -c{args.connections} on /boutiques (every page, town, category), then on "
        f"/robots.txt for reference; DIRECTORY_RATE_LIMIT={Config().directory_rate_limit}"
    )
    print(
        f"{'server':<44} {'round':>5} {'flooding':<12} {'quiet p50':>9} {'p99':>7} {'flooded p50':>11} {'p99':>7} "
        f"{'ratio':>6} {'flood req/s':>11} {'of them 429':>11}  load"
    )

    def row(shape: Shape, label: str, target: str, quiet: WrkResult, flooded: WrkResult, rest: str) -> None:
        print(
            f"{shape.kind:<44} {label:>5} {target:<12} {quiet.p50:9.2f} {quiet.p99:7.2f} {flooded.p50:11.2f} "
            f"{flooded.p99:7.2f} {flooded.p50 / quiet.p50:6.2f} {rest}",
            flush=True,
        )

    for shape in shapes:
        port = free_port()
        proc = start_server(shape, data_dir, port, log, cache_size)
        base = f"http://127.0.0.1:{port}"
        position = 0
        try:
            wait_ready(base, proc)
            if args.prime:
                prime(base, [f"{ENDPOINTS['page']}?{pool[rank]}" for rank in draws[: args.prime]], args.connections)
                position = args.prime
            prime(base, [f"/boutiques?{qs}" for qs in directory_paths(shops)], 2)  # each worker's first read
            runs: dict[str, list[tuple[WrkResult, WrkResult]]] = {target: [] for target in floods}
            for round_number in range(1, args.rounds + 1):
                for target, script in floods.items():
                    quiet = run_wrk(base, resident, duration=args.duration, connections=1, threads=1, start=position)
                    position += quiet.requests
                    command = [
                        "wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration + 2:g}s",
                        "--latency", "--timeout", "10s", "-s", str(script), base, "--", "0",
                    ]  # fmt: skip
                    flood_proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                    time.sleep(1)  # the flood is under way before the resident is measured
                    flooded = run_wrk(base, resident, duration=args.duration, connections=1, threads=1, start=position)
                    position += flooded.requests
                    result = parse_wrk(flood_proc.communicate()[0])
                    runs[target].append((quiet, flooded))
                    share = result.errors / max(result.requests, 1)
                    row(shape, str(round_number), target, quiet, flooded, f"{result.rps:11.0f} {share:11.0%}  {load()}")
            for target, pairs in runs.items():
                quiet, flooded = median_result([q for q, _ in pairs]), median_result([f for _, f in pairs])
                row(shape, "med.", target, quiet, flooded, "(target for /boutiques: ratio <= 2)")
        except Exception:
            print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
            raise
        finally:
            stop_server(proc)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--shops", type=int, default=None, help="default: one per 200 products")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="reuse an existing --index instead of rebuilding")
    parser.add_argument(
        "--servers",
        default="1x8,2x1,2x4",
        help="server shapes WORKERSxTHREADS, comma-separated: 1xT waitress, Wx1 gunicorn sync, "
        "WxT gunicorn gthread (default: 1x8,2x1,2x4)",
    )
    parser.add_argument(
        "--traffic",
        default="zipf,cold",
        help="zipf (popular searches repeat), cold (every request a new search) or both (default: zipf,cold)",
    )
    parser.add_argument(
        "--cold", action="store_const", const="cold", dest="traffic", help="cold traffic only: the worst case"
    )
    parser.add_argument(
        "--pool", type=int, default=20_000, help="distinct searches of the zipf traffic (default: 20000)"
    )
    parser.add_argument("--zipf", type=float, default=1.0, help="exponent s of the zipf traffic (default: 1.0)")
    parser.add_argument(
        "--prime",
        type=int,
        default=6_000,
        help="requests of the zipf traffic sent before it is measured, as a portal that has "
        "served a while has had (default: 6000)",
    )
    parser.add_argument(
        "--cold-urls",
        type=int,
        default=8_000,
        help="distinct searches per endpoint of the cold traffic (default: 8000; more are reused)",
    )
    parser.add_argument(
        "--cache-size",
        type=int,
        default=None,
        help="the servers' SEARCH_CACHE_SIZE (default: the setting's, from the environment)",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds of each measured wrk run")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of unmeasured load per server and endpoint")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default: 8)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--endpoints", default="api,page", help="api, page or both (default: api,page)")
    parser.add_argument("--rounds", type=int, default=3, help="measured runs per server and endpoint (default: 3)")
    parser.add_argument(
        "--flood",
        action="store_true",
        help="the directory scenario: a resident's searches, alone and while clients flood /boutiques",
    )
    parser.add_argument(
        "--directory-limit",
        default=None,
        help="the servers' DIRECTORY_RATE_LIMIT for --flood (default: the setting's, from the environment)",
    )
    args = parser.parse_args(argv)

    if not shutil.which("wrk"):
        print(WRK_MISSING, file=sys.stderr)
        return 2
    shapes = [Shape.parse(s) for s in args.servers.split(",") if s.strip()]
    endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    traffics = [t.strip() for t in args.traffic.split(",") if t.strip()]
    if set(traffics) - {"zipf", "cold"}:
        parser.error("--traffic: zipf, cold or zipf,cold")
    from config import Config

    cache_size = Config().search_cache_size if args.cache_size is None else args.cache_size

    rng = random.Random(args.seed)  # the same draws as bench/search.py: same shops for the same seed
    shops = make_shops(args.shops or max(10, args.products // 200), rng)
    workdir = Path(tempfile.mkdtemp(prefix="emplettes-bench-portal-"))
    index_dir = args.index or workdir / "index"
    try:
        products = build_index(index_dir, args.products, shops, args.seed, args.keep)
        data_dir = workdir / "data"
        data_dir.mkdir()
        (data_dir / "index").symlink_to(index_dir.resolve(), target_is_directory=True)

        # One pool: the zipf traffic's searches first, by popularity; the cold traffic's are
        # further ones whose facets no zipf search shares, a separate slice per endpoint
        # (both endpoints of a server share its processes' cache).
        cold_needed = args.cold_urls * len(endpoints) if "cold" in traffics else 0
        urls = bench_urls(shops, args.seed, args.pool + cold_needed * 2)
        pool = urls[: args.pool]
        taken = {facet_key(u) for u in pool}
        cold: list[str] = []
        for url in urls[args.pool :]:
            if facet_key(url) not in taken:
                taken.add(facet_key(url))
                cold.append(url)
        random.Random(args.seed + 5).shuffle(cold)
        draws = zipf_draws(len(pool), args.zipf, 200_000, args.seed)
        scripts: dict[tuple[str, str], Path] = {}
        for name in endpoints:
            if "zipf" in traffics:
                scripts["zipf", name] = workdir / f"zipf-{name}.lua"
                scripts["zipf", name].write_text(lua_script(ENDPOINTS[name], pool, draws))
            if "cold" in traffics:
                share = cold[endpoints.index(name) :: len(endpoints)][: args.cold_urls]
                scripts["cold", name] = workdir / f"cold-{name}.lua"
                scripts["cold", name].write_text(lua_script(ENDPOINTS[name], share))
        cold_each = len(cold) // len(endpoints) if cold else 0

        print(
            f"\n{products:,} products, {os.cpu_count()} CPUs, wrk -t{args.wrk_threads} -c{args.connections} "
            f"-d{args.duration:g}s --latency, gzip accepted; SEARCH_CACHE_SIZE={cache_size} (facet counts "
            f"per process); {args.rounds} round(s), the servers taking turns (the machine's load varies)"
        )
        if "zipf" in traffics:
            sample = args.prime + 10_000
            keys = [facet_key(pool[rank]) for rank in draws[:sample]]
            distinct_urls = len(set(draws[:sample])) / sample
            ratios = ", ".join(
                f"{w} process{'es' if w > 1 else ''} {cache_hit_ratio(keys, w, cache_size, args.seed, args.prime):.0%}"
                for w in sorted({shape.workers for shape in shapes})
            )
            print(
                f"zipf traffic: {len(pool):,} distinct searches drawn with P(rank r) ~ 1/r^{args.zipf:g}; "
                f"of {sample:,} requests {distinct_urls:.0%} are distinct URLs; {args.prime:,} sent first "
                f"(--prime), then expected facet-cache hits in the next 10,000: {ratios}"
            )
        if "cold" in traffics:
            print(
                f"cold traffic: every request a search no other request of the run shares facets with "
                f"({min(cold_each, args.cold_urls):,} per endpoint; beyond that they come round again); "
                f"expected facet-cache hits 0 %"
            )
        if args.flood:
            return flood(args, shapes, shops, data_dir, pool, draws, workdir, cache_size)
        servers: dict[Shape, tuple[subprocess.Popen, str]] = {}
        log = workdir / "server.log"
        position: dict[tuple, int] = {}  # where each server's stream of traffic is
        sent: dict[tuple, int] = {}

        def drive(traffic: str, name: str, shape: Shape, base: str, duration: float) -> WrkResult:
            stream = (shape, traffic) if traffic == "zipf" else (shape, traffic, name)
            result = run_wrk(
                base,
                scripts[traffic, name],
                duration=duration,
                connections=args.connections,
                threads=args.wrk_threads,
                start=position.get(stream, 0),
            )
            position[stream] = position.get(stream, 0) + result.requests
            sent[shape, traffic, name] = sent.get((shape, traffic, name), 0) + result.requests
            return result

        try:
            for shape in shapes:  # all started first, then driven in turn: idle ones cost nothing
                port = free_port()
                servers[shape] = (start_server(shape, data_dir, port, log, cache_size), f"http://127.0.0.1:{port}")
            for shape, (proc, base) in servers.items():
                wait_ready(base, proc)
                if "zipf" in traffics and args.prime:
                    started = time.perf_counter()
                    prime(base, [f"{ENDPOINTS['api']}?{pool[rank]}" for rank in draws[: args.prime]], args.connections)
                    position[shape, "zipf"] = args.prime
                    print(
                        f"{shape.kind}: primed with {args.prime:,} requests in {time.perf_counter() - started:.0f} s",
                        flush=True,
                    )
                for name in endpoints:
                    if args.warmup:  # the traffic measured first; cold traffic does not warm a cache
                        drive(traffics[0], name, shape, base, args.warmup)
            results: dict[tuple[Shape, str, str], list[tuple[WrkResult, str]]] = {}
            for traffic in traffics:  # zipf first: cold searches would push its popular ones out
                for round_number in range(1, args.rounds + 1):
                    print(f"\n{traffic} traffic, round {round_number}")
                    print_header()
                    for name in endpoints:
                        for shape, (proc, base) in servers.items():
                            before, cpu = load(), process_tree_cpu(proc.pid)
                            result = drive(traffic, name, shape, base, args.duration)
                            result.cpu_ms = (process_tree_cpu(proc.pid) - cpu) * 1000 / max(result.requests, 1)
                            loads = f"{before} -> {load()}"
                            results.setdefault((shape, traffic, name), []).append((result, loads))
                            print_row(shape, traffic, name, result, loads)
            if args.rounds > 1:
                print("\nmedian of the rounds")
                print_header()
                for (shape, traffic, name), runs in results.items():
                    print_row(shape, traffic, name, median_result([r for r, _ in runs]), "")
            if "cold" in traffics and cold_each:
                most = max(n for (_, t, _), n in sent.items() if t == "cold")
                if most > min(cold_each, args.cold_urls):
                    print(
                        f"note: {most:,} cold requests to one endpoint of one server, more than its "
                        f"{min(cold_each, args.cold_urls):,} distinct searches: raise --cold-urls"
                    )
        except Exception:
            print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
            raise
        finally:
            for proc, _ in servers.values():
                stop_server(proc)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\ntargets (issue 6): p99 <= 30 ms and >= 300 req/s per endpoint, wrk on loopback, 1M products")
    print(
        "CPU ms/req: the server processes' CPU time per request, whatever else runs on the machine: "
        "two idle cores serve at most about 2000 / (that + wrk's share) requests/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
