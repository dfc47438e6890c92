"""A crawl killed with -9 keeps the records it had scraped; a robots.txt that forbids
everything is said in `status` and on the run, not shown as "ok, 0 products".

Real shops on loopback, real `emplettes crawl` processes (one killed with SIGKILL), real
`status`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hostile_sites import ShopFarm
from werkzeug.serving import make_server
from werkzeug.wrappers import Response


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "CRAWL_DELAY": "0",
        "SEARCH_BACKEND": "tantivy",
    }


def product_lines(run_file: Path) -> int:
    if not run_file.exists():
        return 0
    lines = run_file.read_bytes().splitlines()
    return sum(1 for line in lines if line.strip() and json.loads(line).get("type") == "product")


def test_a_crawl_killed_with_sigkill_keeps_the_records_it_had_scraped(tmp_path):
    with ShopFarm(1, products=40) as farm:
        shop = farm.shops[0]
        shop.delay = 0.3  # a slow shop: the crawl is mid-way for several seconds
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml(), encoding="utf-8")
        crawl = subprocess.Popen(
            [sys.executable, "-m", "emplettes.cli", "crawl", "--source", shop.id],
            env=environment(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while shop.hits < 4 + 14 and crawl.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            shop.delay = 600  # from now on the shop stops answering: what it answered is all there is
            time.sleep(2)  # the pages already answered are scraped meanwhile
            assert crawl.poll() is None, "the crawl ended before it could be killed"
            # four requests that are not product pages (robots.txt, sitemap, home page...: as
            # a whole crawl of this shop counts them), then product pages; at most two of
            # those (CONCURRENT_REQUESTS_PER_DOMAIN) are still waiting for their answer
            answered = shop.hits - 4 - 2
            os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait(timeout=30)
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait()
    (run_file,) = (tmp_path / "data" / "runs" / shop.id).glob("*.jsonl")
    assert answered >= 10
    assert product_lines(run_file) >= answered  # none of them lost in a buffer
    status = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "status", "--json"],
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert json.loads(status.stdout.splitlines()[0])["last_run"]["outcome"] == "killed"


def test_a_robots_txt_forbidding_everything_is_said_in_status_and_on_the_run(tmp_path):
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/robots.txt":
            return Response("User-agent: *\nDisallow: /\n")(environ, start_response)
        return Response("<html><body>Bienvenue</body></html>", content_type="text/html")(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    try:
        (tmp_path / "sources.yaml").write_text(
            "sources:\n  - id: porte-close\n    name: Porte close\n"
            f"    url: http://127.0.0.1:{server.port}/\n    kind: website\n    town: Tours\n"
            '    postcode: "37000"\n    allow_private: true\n',
            encoding="utf-8",
        )
        env = environment(tmp_path)
        crawled = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "crawl", "--index"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert "Traceback" not in crawled.stderr, crawled.stderr
    finally:
        server.shutdown()
        server.server_close()
    run = json.loads(
        subprocess.run(
            [sys.executable, "-m", "emplettes.cli", "status", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.splitlines()[0]
    )["last_run"]
    assert run["outcome"] == "robots_txt" and run["robots_forbidden"] >= 1 and run["products"] == 0
    table = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "status"], env=env, capture_output=True, text=True, timeout=120
    ).stdout
    line = next(row for row in table.splitlines() if row.startswith("porte-close"))
    assert "interdite par robots.txt" in line and "robots.txt×" in line
