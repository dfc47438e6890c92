"""Never lose data: killed crawls, index outages, partial runs, hostile shops.

Real parts only: shop sites served over HTTP on 127.0.2.x (tests/hostile_sites.py), the
crawl as the ``emplettes`` command in a subprocess, a real tantivy index, the real
scheduler running real crawl subprocesses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_sites import EXPECTED_ERROR, HOSTILE_MODES, ShopFarm

pytestmark = pytest.mark.e2e


def farm_env(root: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(root / "data"),
        "SOURCES_FILE": str(root / "sources.yaml"),
        "CRAWL_DELAY": "0",
        "DOWNLOAD_TIMEOUT": "2",
        "DOWNLOAD_MAXSIZE": str(5 * 1024 * 1024),
        "SCHEDULE_JITTER": "0",
        **extra,
    }


def emplettes(*args: str, env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def indexed(root: Path, source_id: str) -> dict[str, str]:
    """URL -> price of the products the index holds for one source."""
    from indexer.backends.base import SearchQuery
    from indexer.backends.tantivy import TantivyBackend

    with TantivyBackend(root / "data" / "index", readonly=True) as backend:
        result = backend.search(SearchQuery(filters={"source_id": (source_id,)}, per_page=500, facets=()))
    return {hit["url"]: str(hit["price"]) for hit in result.hits}


def records(root: Path, source_id: str):
    from indexer.runlog import run_records
    from indexer.state import IndexState

    with IndexState(root / "data" / "state.sqlite3") as state:
        return run_records(root / "data" / "runs", state, source_id=source_id)


def config_for(root: Path, **extra: str):
    from config import Config

    saved = dict(os.environ)
    os.environ.update({k: v for k, v in farm_env(root, **extra).items() if k not in saved or saved[k] != v})
    try:
        return Config()
    finally:
        os.environ.clear()
        os.environ.update(saved)


# -- 50 shops, 10 hostile ---------------------------------------------------------------------


def test_fifty_shops_of_which_ten_misbehave(tmp_path):
    modes = dict(zip(range(5, 51, 5), HOSTILE_MODES, strict=False))  # every fifth shop
    with ShopFarm(50, modes) as farm:
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        env = farm_env(tmp_path)
        crawl = emplettes("crawl", env=env)
        assert crawl.returncode == 0, crawl.stderr
        index = emplettes("index", env=env)
        assert index.returncode == 0, index.stderr

        assert len(farm.good) == 40 and len(farm.hostile) == 10
        for shop in farm.good:  # every good shop fully indexed
            assert set(indexed(tmp_path, shop.id)) == farm.expected_urls(shop), shop.id
            (run,) = records(tmp_path, shop.id)
            assert run.outcome == "ok" and run.indexed and run.page_errors == 0 and run.products == 3

        for shop in farm.hostile:  # every hostile one recorded with the right error
            (run,) = records(tmp_path, shop.id)
            assert run.finished_at and run.indexed, shop.id
            assert run.products == 0 and indexed(tmp_path, shop.id) == {}
            expected = EXPECTED_ERROR[shop.mode]
            assert set(run.errors) == {expected}, (shop.id, run.errors)
            assert run.errors[expected] == 3  # the home page and both product pages
            assert run.outcome == "partial"
        # the gzip bomb and the 50 MB page were abandoned, not read whole
        gzip_run = records(tmp_path, farm.hostile[HOSTILE_MODES.index("gzip_bomb")].id)[0]
        assert gzip_run.bytes < 5 * 1024 * 1024


# -- kill -9 mid-crawl ------------------------------------------------------------------------


def test_a_crawl_killed_mid_way_never_shrinks_the_index_and_is_recorded_as_killed(tmp_path):
    with ShopFarm(1, products=30) as farm:
        shop = farm.shops[0]
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        env = farm_env(tmp_path)
        assert emplettes("crawl", "--index", env=env).returncode == 0
        before = indexed(tmp_path, shop.id)
        assert len(before) == 30

        shop.delay, shop.revision = 0.3, 2  # slow pages, new prices
        crawl = subprocess.Popen(
            [sys.executable, "-m", "emplettes.cli", "crawl"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        runs = tmp_path / "data" / "runs" / shop.id
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once a few products are written
            files = sorted(runs.glob("*.jsonl"))
            if len(files) == 2 and files[-1].read_text().count('"product"') >= 3:
                break
            time.sleep(0.1)
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait()
        killed_run = sorted(runs.glob("*.json"))[-1]
        assert json.loads(killed_run.read_text())["finished_at"] is None  # it could not close its run

        index = emplettes("index", env=env)
        assert index.returncode == 0, index.stderr
        assert "enregistrée comme interrompue" in index.stderr
        after = indexed(tmp_path, shop.id)
        assert set(after) == set(before), "nothing removed"
        refreshed = [u for u in after if after[u] != before[u]]
        assert 3 <= len(refreshed) < 30, "what the killed run read is loaded"
        latest = records(tmp_path, shop.id)[0]
        assert latest.outcome == "killed" and latest.indexed and latest.index_outcome == "partial"

        shop.delay = 0  # the next run completes normally
        assert emplettes("crawl", "--index", env=env).returncode == 0
        latest = records(tmp_path, shop.id)[0]
        assert latest.outcome == "ok" and latest.index_outcome == "complete"
        final = indexed(tmp_path, shop.id)
        assert set(final) == set(before) and all(final[u] != before[u] for u in final)
        status = emplettes("status", env=env)
        assert shop.id in status.stdout and " réussie " in status.stdout


# -- index outage -----------------------------------------------------------------------------

HOLD_WRITER = """
import sys
from indexer.backends.tantivy import TantivyBackend
backend = TantivyBackend(sys.argv[1])
with backend.bulk():
    backend.upsert([])  # opens the writer: tantivy allows one, this process holds its lock
    print("holding", flush=True)
    sys.stdin.readline()
backend.close()
"""


def test_an_index_outage_loses_nothing_and_indexing_catches_up(tmp_path, caplog):
    import logging

    from emplettes.scheduler import CrawlScheduler

    caplog.set_level(logging.INFO, logger="emplettes.scheduler")

    with ShopFarm(3) as farm:
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        config = config_for(tmp_path)
        config.index_dir.mkdir(parents=True)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_WRITER, str(config.index_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "holding"
            scheduler = CrawlScheduler(config, poll=0.2, first_run_spread=0)
            assert scheduler.reload_registry()
            for shop in farm.shops:
                scheduler.crawl(shop.id)
            assert scheduler.index() is False  # the index is busy: nothing lost, nothing recorded
            assert scheduler.index() is False
            told = [r for r in caplog.records if r.name == "emplettes.scheduler" and "indisponible" in r.getMessage()]
            assert len(told) == 1, "said once, not at every try"
            for shop in farm.shops:
                (run,) = records(tmp_path, shop.id)
                assert run.outcome == "ok" and not run.indexed
                assert Path(run.path).exists()
            status = emplettes("status", env=farm_env(tmp_path))
            assert status.returncode == 0 and " non " in status.stdout
        finally:
            holder.communicate("release\n", timeout=30)  # the index comes back
        scheduler.tick()  # the periodic catch-up
        scheduler.stop()
        assert "index de recherche revenu : 3 collectes rattrapées" in caplog.text
        for shop in farm.shops:
            assert set(indexed(tmp_path, shop.id)) == farm.expected_urls(shop)
            assert records(tmp_path, shop.id)[0].indexed


# -- a partial run ----------------------------------------------------------------------------


def test_a_partial_run_keeps_the_products_of_the_pages_it_could_not_read(tmp_path):
    with ShopFarm(1, products=10) as farm:
        shop = farm.shops[0]
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        env = farm_env(tmp_path)
        assert emplettes("crawl", "--index", env=env).returncode == 0
        first = indexed(tmp_path, shop.id)
        assert len(first) == 10

        shop.revision, shop.failing = 2, {1, 2, 3, 4}  # 40% of product pages fail
        assert emplettes("crawl", "--index", env=env).returncode == 0
        run = records(tmp_path, shop.id)[0]
        assert run.outcome == "partial" and run.errors == {"http_500": 4} and run.index_outcome == "partial"
        second = indexed(tmp_path, shop.id)
        base = farm.base_url(shop)
        unread = {f"{base}p/{n}" for n in (1, 2, 3, 4)}
        assert set(second) == set(first), "the products of unread pages are still found"
        assert all(second[u] == first[u] for u in unread), "kept as they were"
        assert all(second[u] != first[u] for u in set(first) - unread), "the pages read are refreshed"

        # Once the shop is healthy, a good run removes what it no longer sells.
        shop.failing, shop.products = set(), 8
        assert emplettes("crawl", "--index", env=env).returncode == 0
        assert records(tmp_path, shop.id)[0].index_outcome == "complete"
        assert set(indexed(tmp_path, shop.id)) == farm.expected_urls(shop)
