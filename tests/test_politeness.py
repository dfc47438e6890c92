"""Politeness and safety by default: Retry-After, size limits, redirects, schemes, run time limit.

Real crawls (``emplettes crawl`` subprocesses) against shop sites on 127.0.2.x; the
misbehaviours themselves (gzip bomb, 50 MB page, redirect loop) are in test_resilience.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from hostile_sites import ShopFarm
from scrapy.extensions.httpcache import RFC2616Policy
from scrapy.utils.misc import load_object

from config import Config
from crawler.middlewares import retry_after_seconds
from crawler.settings import crawl_settings


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    assert retry_after_seconds(b"120") == 120
    assert retry_after_seconds("0") == 0
    later = datetime.now(UTC) + timedelta(seconds=90)
    assert 85 <= retry_after_seconds(format_datetime(later, usegmt=True)) <= 91
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past: now
    assert retry_after_seconds("demain") is None and retry_after_seconds(None) is None


def test_limits_come_from_the_configuration():
    settings = crawl_settings(Config(download_timeout=7, download_maxsize=1234, crawl_time_limit=99))
    assert settings["DOWNLOAD_TIMEOUT"] == 7 and settings["DOWNLOAD_MAXSIZE"] == 1234
    assert settings["CLOSESPIDER_TIMEOUT"] == 99 and settings["REDIRECT_MAX_TIMES"] == 5
    assert settings["ROBOTSTXT_OBEY"] and settings["CONCURRENT_REQUESTS_PER_DOMAIN"] <= 2
    assert "+https://" in settings["USER_AGENT"] or "+http://" in settings["USER_AGENT"]
    # conditional recrawls (redirects excepted: crawler.middlewares.RecrawlCachePolicy)
    assert issubclass(load_object(settings["HTTPCACHE_POLICY"]), RFC2616Policy)
    assert settings["TELNETCONSOLE_ENABLED"] is False and settings["REMOTE_CONTROL_ENABLED"] is False


def crawl(tmp_path: Path, farm: ShopFarm, **env: str) -> dict[str, dict]:
    (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path / "data"),
        "SOURCES_FILE": str(tmp_path / "sources.yaml"),
        "CRAWL_DELAY": "0",
        "DOWNLOAD_TIMEOUT": "5",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl"], env=environment, capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in result.stderr, result.stderr
    return {
        m["source_id"]: m for m in (json.loads(p.read_text()) for p in (tmp_path / "data" / "runs").glob("*/*.json"))
    }


@pytest.mark.e2e
def test_retry_after_is_honoured_and_other_shops_are_not_held_back(tmp_path):
    with ShopFarm(2, {1: "retry_after_once"}) as farm:
        patient, other = farm.shops
        manifests = crawl(tmp_path, farm)
    run = manifests[patient.id]
    assert run["finish_reason"] == "finished" and run["page_errors"] == 0
    assert run["products"] == patient.products, "every page read after waiting"
    for path in {p for _, p, s in patient.log if s == 503}:
        times = [t for t, p, _ in patient.log if p == path]
        assert len(times) == 2 and times[1] - times[0] >= 1.8, f"{path} retried before Retry-After: 2"
    assert manifests[other.id]["products"] == other.products


@pytest.mark.e2e
def test_server_errors_are_retried_with_back_off_and_a_long_retry_after_is_not_hammered(tmp_path):
    with ShopFarm(2, {2: "http503_long"}) as farm:
        failing = farm.shops[0]
        failing.failing = {1}
        manifests = crawl(tmp_path, farm)
    attempts = [t for t, path, status in failing.log if path == "/p/1"]
    assert len(attempts) == 3, "tried, then retried twice (RETRY_TIMES)"
    assert attempts[1] - attempts[0] >= 0.9 and attempts[2] - attempts[1] >= 1.8, "1 s, then 2 s"
    assert manifests[failing.id]["errors"] == {"http_500": 1} and manifests[failing.id]["products"] == 2
    # "come back in an hour": each page asked once, not retried (the next run will)
    patient = farm.shops[1]
    # robots.txt (twice: the robots middleware, then sitemap discovery), the sitemap, the
    # home page and 2 product pages: each once
    assert patient.hits == 6 and manifests[patient.id]["errors"] == {"http_503": 3}


@pytest.mark.e2e
def test_non_http_redirects_are_refused_and_the_run_time_is_limited(tmp_path):
    with ShopFarm(2, {1: "redirect_file"}, products=10) as farm:
        farm.shops[1].delay = 0.5  # 10 slow pages, 2 at a time: longer than the run's time limit
        manifests = crawl(tmp_path, farm, CRAWL_TIME_LIMIT="1")
    refused = manifests[farm.shops[0].id]
    assert refused["errors"] == {"redirect_refused": 3} and refused["products"] == 0
    bounded = manifests[farm.shops[1].id]
    assert bounded["finish_reason"] == "closespider_timeout"  # a partial run: never sweeps
    # Scrapy stops scheduling at the limit but lets the requests already queued finish
    # (up to CONCURRENT_REQUESTS): the scheduler's wall-clock kill (CRAWL_TIME_LIMIT + 60 s)
    # is the hard stop.
    assert bounded["products"] > 0


RESOLVE = """
import sys
from twisted.internet import reactor
from crawler.netguard import GuardedResolver
resolver = GuardedResolver(reactor, 0, 5.0)
resolver.allowed = frozenset(sys.argv[2:])
def done(result):
    print(type(result.value).__name__ if hasattr(result, "value") else result)
    reactor.stop()
resolver.getHostByName(sys.argv[1]).addBoth(done)
reactor.run()
"""


@pytest.mark.parametrize(
    ("host", "allowed", "expected"),
    [
        ("localhost", [], "PrivateAddressLookup"),  # a name resolving to loopback: refused at connection
        ("localhost", ["localhost"], "127.0.0.1"),  # a source with allow_private: true
        ("127.0.2.7", [], "PrivateAddressLookup"),
    ],
)
def test_the_resolver_refuses_private_answers_where_the_connection_is_made(host, allowed, expected):
    # The URL check resolves names itself; a DNS answer changing in between (rebinding)
    # is caught by the resolver Scrapy connects with (TWISTED_DNS_RESOLVER).
    out = subprocess.run([sys.executable, "-c", RESOLVE, host, *allowed], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == expected, out.stderr
    assert crawl_settings(Config())["TWISTED_DNS_RESOLVER"] == "crawler.netguard.GuardedResolver"


CRAWL_WITHOUT_ALLOWED_HOSTS = """
import sys
from pathlib import Path
from crawler.registry import parse_registry
from crawler.run import crawl_sources
from config import Config
registry = parse_registry(Path(sys.argv[1]).read_text())
# As if the address guard had been fooled (DNS rebinding): only the resolver stands.
unguarded = {
    "EMPLETTES_PRIVATE_HOSTS": [],
    "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.PrivateAddressGuard": None},
}
outcomes = crawl_sources(list(registry.sources), Config(data_dir=Path(sys.argv[2]), crawl_delay=0),
                         settings_overrides=unguarded)
print(outcomes[0].manifest["errors"], outcomes[0].manifest["pages"])
"""


@pytest.mark.e2e
def test_a_crawl_whose_connection_would_reach_a_private_address_is_refused_by_the_resolver(tmp_path):
    with ShopFarm(1) as farm:
        (tmp_path / "sources.yaml").write_text(farm.sources_yaml())
        out = subprocess.run(
            [sys.executable, "-c", CRAWL_WITHOUT_ALLOWED_HOSTS, str(tmp_path / "sources.yaml"), str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert farm.shops[0].hits == 0, "not a single request reached the shop"
    assert out.stdout.strip().startswith("{'refused_address':") and out.stdout.strip().endswith(" 0"), out.stderr[
        -2000:
    ]
