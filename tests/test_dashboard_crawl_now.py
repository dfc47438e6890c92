"""« Lancer une collecte », from the chamber's click to the residents' catalogue, no stand-in.

A sample shop serves its pages on 127.0.1.x. A first ``emplettes crawl`` and ``emplettes
index`` put it in the catalogue as a chamber's weekly source. Then the real portal and the
real ``emplettes schedule`` run on the same data: an agent logs in and clicks « Lancer une
collecte », the scheduler takes the request at its next poll, real Scrapy crawls the shop,
the indexer loads the run, and the source's page shows the new run above the first while
residents still find the shop's products.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import requests
from chamber_portal import TOURAINE_EDITOR, add_user, login, post_form

pytestmark = pytest.mark.e2e

SHOP = "fromagerie-du-donjon"


def _run(env: dict, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done


def _history(session: requests.Session, base: str) -> list[tuple[str, bool]]:
    """The source's run history, newest first: (outcome, indexed) per run."""
    page = session.get(f"{base}/chambre/source/{SHOP}", timeout=30).text
    table = page[page.index('id="historique"') :]
    rows = table[: table.index("</table>")].split("<tr>")[2:]  # after the header row
    return [
        (re.search(r'<span class="outcome outcome--(\w+)">', row).group(1), "pas encore" not in row) for row in rows
    ]


def test_a_requested_crawl_is_run_by_the_scheduler_indexed_and_shown(tmp_path):
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread
    from samples import SampleSites

    with SampleSites(port=0, shops=[SHOP]) as shops:
        sources = tmp_path / "sources.yaml"
        sources.write_text(
            "defaults:\n  chamber: cci-touraine\nsources:\n"
            f"  - id: {SHOP}\n    name: Fromagerie du Donjon\n    url: {shops.base_urls[SHOP]}\n"
            '    town: Loches\n    postcode: "37600"\n    schedule: weekly\n    allow_private: true\n',
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path / "data"),
            "SOURCES_FILE": str(sources),
            "CRAWL_DELAY": "0",
            "SCHEDULE_JITTER": "0",
        }
        _run(env, "crawl")
        _run(env, "index")
        config = Config(data_dir=tmp_path / "data", sources_file=sources)
        add_user(
            SimpleNamespace(data_dir=config.data_dir, sources_file=sources), TOURAINE_EDITOR, "cci-touraine", "editor"
        )
        asked_before = len(shops.requests_to(SHOP))

        log_path = tmp_path / "schedule.log"
        with open(log_path, "wb") as log_file:
            scheduler = subprocess.Popen(
                [sys.executable, "-m", "emplettes.cli", "schedule"], env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        try:
            with serving_in_thread(create_app(config)) as base:
                agent = login(base, TOURAINE_EDITOR)
                assert _history(agent, base) == [("ok", True)]
                deadline = time.monotonic() + 60
                while "en marche" not in _run(env, "status").stdout:  # its first poll has passed
                    assert scheduler.poll() is None and time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.5)
                time.sleep(2)
                assert len(shops.requests_to(SHOP)) == asked_before, "a weekly source is not due: nothing crawled"

                answer = post_form(agent, base, f"/chambre/source/{SHOP}", f"/chambre/source/{SHOP}/collecter")
                assert answer.status_code == 302
                deadline = time.monotonic() + 240
                # Both runs crawled well and indexed (the scheduler indexes a run once it ends).
                while _history(agent, base) != [("ok", True), ("ok", True)]:
                    assert scheduler.poll() is None and time.monotonic() < deadline, log_path.read_text()
                    time.sleep(1)
                found = requests.get(f"{base}/api/search", params={"shop": SHOP}, timeout=30).json()
                assert found["total"] > 0, "residents still find its products"
        finally:
            scheduler.send_signal(signal.SIGTERM)
            assert scheduler.wait(timeout=60) == 0
        log = log_path.read_text()
        assert f"collecte de {SHOP} demandée depuis le tableau de bord : lancée" in log
        assert "index de recherche" not in log, "the index never went away: no outage is told"
        assert len(shops.requests_to(SHOP)) > asked_before, "the shop was crawled again"
        assert not list(config.crawl_requests_dir.glob("*.json")), "the request was taken"
