"""Fixtures shared by the test modules (helpers that are not fixtures live in modules
beside this one: portal_samples.py, backend_catalogue.py, run_files.py, browser.py, ...).

- ``portal_url``: a real tantivy index of :func:`portal_samples.portal_records`, served by
  the real app under waitress on a free port; ``results_url`` the same over
  :func:`portal_samples.results_records`.
- ``browser``: one headless Chromium for the session.

Everything binds port 0 and writes under pytest's temporary directories, so the suite runs
in parallel under pytest-xdist (each worker its own session, its own servers and Chromium).
"""

from __future__ import annotations

import os

import pytest
from browser import CHROMIUM_ARGS, find_chromium, skip_or_fail
from portal_samples import portal_records, results_records
from served_portal import served_portal

# Modules that crawl sample sites, run crawl subprocesses or drive Chromium, longest first.
# Under pytest-xdist (`make test`: --dist loadscope, each module whole on one worker) they
# start first, and the many short modules fill the workers' gaps afterwards instead of one
# long module starting last and running on alone. Only the order changes: every test runs.
LONG_MODULES = (
    "test_elasticsearch_server.py",
    "test_resilience.py",
    "test_scheduler.py",
    "test_politeness.py",
    "test_accessibility.py",
    "test_dashboard_browser.py",
    "test_portal_browser.py",
    "test_end_to_end.py",
    "test_check.py",
    "test_browser_shops.py",
    "test_demo_federation.py",
    "test_crawl.py",
    "test_extract_properties.py",
    "test_browser_results.py",
    "test_adapter_crawl.py",
    "test_discovery.py",
    "test_browser_map.py",
    "test_scheduler_events.py",
    "test_adapter_properties.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: n for n, name in enumerate(LONG_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: modules keep their order


def pytest_sessionfinish(session):
    """Delete the Elasticsearch indices and templates this test process made (each worker
    its own, named from backend_catalogue.ES_TEST_PREFIX): a run leaves the cluster as it
    found it."""
    import sys

    catalogue = sys.modules.get("backend_catalogue")
    if catalogue is None or not os.environ.get("ELASTICSEARCH_URL"):
        return
    from indexer.backends.elasticsearch_backend import ElasticsearchBackend

    try:
        cluster = ElasticsearchBackend(os.environ["ELASTICSEARCH_URL"]).client.options(ignore_status=404)
        cluster.indices.delete(index=f"{catalogue.ES_TEST_PREFIX}-*", expand_wildcards="all")
        cluster.indices.delete_index_template(name=f"{catalogue.ES_TEST_PREFIX}-*")
    except Exception as exc:  # best effort: the results stand whatever happens here
        print(f"\nElasticsearch test indices left behind ({catalogue.ES_TEST_PREFIX}-*): {exc}")


# Every test client is 127.0.0.1: one API rate-limit bucket for the whole session would
# fail unrelated tests. tests/test_security.py turns the limit on for its own apps.
os.environ.setdefault("API_RATE_LIMIT", "off")
os.environ.setdefault("CLICK_COUNT_LIMIT", "off")  # every test client is 127.0.0.1
os.environ.setdefault("DIRECTORY_RATE_LIMIT", "off")  # likewise; tests/test_heavy_pages.py turns it on


@pytest.fixture(scope="session")
def portal_config(tmp_path_factory):
    """A data directory whose index holds :func:`portal_records`."""
    from config import Config
    from indexer.backends.tantivy import TantivyBackend

    config = Config(data_dir=tmp_path_factory.mktemp("portal-data"))
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records())
    return config


@pytest.fixture(scope="session")
def portal_url(portal_config):
    """Base URL of the real portal (opening the index itself, read-only) under waitress."""
    from portal import create_app
    from portal.server import serving_in_thread

    with serving_in_thread(create_app(portal_config)) as url:
        yield url


@pytest.fixture(scope="module")
def results_url(tmp_path_factory):
    """Base URL of the real portal over :func:`results_records`, one per module: their
    freshness ("vérifié il y a 20 min") is counted from when the module starts."""
    with served_portal(results_records(), tmp_path_factory.mktemp("results-data")) as (url, _, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session (each test opens its own context)."""
    executable = find_chromium()
    if executable is None:
        skip_or_fail("no Chromium binary found (looked at $CHROMIUM_PATH, chromium, chromium-browser)")
    try:
        from playwright import sync_api
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
