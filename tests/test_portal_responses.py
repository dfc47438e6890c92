"""A repeated search is answered from the portal's answer cache (over real HTTP, real
index): same body and headers, no new search; a commit, the time limit, another
encoding or another URL get a fresh answer; refusals are never kept and the API's
rate limit still applies."""

from __future__ import annotations

import gzip

import pytest
import requests
from portal_samples import portal_records

from portal.responses import EXTENSION


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(tmp_path):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.backend import get_backend
    from portal.server import serving_in_thread

    config = Config(
        data_dir=tmp_path, api_rate_limit="3/minute", api_rate_burst=3, search_cache_size=100, response_cache_seconds=60
    )
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records())
    app = create_app(config)
    clock = app.extensions[EXTENSION].clock = Clock()
    searches: list[str] = []
    with app.app_context():
        backend = get_backend()
    search = backend.search

    def counted(query):
        searches.append(query.text)
        return search(query)

    backend.search = counted
    with serving_in_thread(app) as url:
        yield url, searches, clock, config


def test_a_repeated_results_page_is_answered_without_searching_again(served):
    url, searches, _, _ = served
    first = requests.get(f"{url}/recherche?q=bougie", timeout=10)
    second = requests.get(f"{url}/recherche?q=bougie", timeout=10)
    assert first.status_code == second.status_code == 200
    assert len(searches) == 1
    assert second.text == first.text and "Bougie" in second.text
    for name in ("Content-Type", "Content-Security-Policy", "X-Frame-Options", "Content-Encoding", "Vary"):
        assert second.headers[name] == first.headers[name], name
    assert second.headers["Content-Encoding"] == "gzip"


def test_each_encoding_and_each_url_has_its_own_answer(served):
    url, searches, _, _ = served
    plain = requests.get(f"{url}/api/search?q=bougie", headers={"Accept-Encoding": "identity"}, timeout=10)
    zipped = requests.get(f"{url}/api/search?q=bougie", headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.raw.read()) == plain.content
    requests.get(f"{url}/api/search?q=bougie&page=2", timeout=10)
    requests.get(f"{url}/api/search?q=bougie", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert len(searches) == 3  # identity, gzip, page 2; then the identity answer again


def test_a_commit_is_seen_by_the_next_request(served):
    url, searches, _, config = served
    from indexer.backends.tantivy import TantivyBackend

    before = requests.get(f"{url}/api/search?q=lanterne", timeout=10).json()
    record = dict(
        next(r for r in portal_records() if r["type"] == "product"), id="lanterne-1", name="Lanterne en fer forgé"
    )
    with TantivyBackend(config.index_dir) as writer:
        writer.upsert([record])
    after = requests.get(f"{url}/api/search?q=lanterne", timeout=10).json()
    assert (before["total"], after["total"]) == (0, 1)
    assert len(searches) == 2


def test_an_answer_is_kept_for_the_configured_time_only(served):
    url, searches, clock, _ = served
    requests.get(f"{url}/recherche?q=miel", timeout=10)
    clock.now += 59
    requests.get(f"{url}/recherche?q=miel", timeout=10)
    assert len(searches) == 1
    clock.now += 2
    requests.get(f"{url}/recherche?q=miel", timeout=10)
    assert len(searches) == 2  # "prix vérifié il y a …" is against the clock: refreshed


def test_refusals_are_not_kept_and_the_rate_limit_still_applies(served):
    url, searches, _, _ = served
    for _ in range(2):
        assert requests.get(f"{url}/api/search?q=bougie", timeout=10).status_code == 200
    assert requests.get(f"{url}/api/search?page=zéro", timeout=10).status_code == 400
    assert searches == ["bougie"]
    # Three requests a minute: the fourth is refused, whether its answer is kept or not.
    assert requests.get(f"{url}/api/search?q=bougie", timeout=10).status_code == 429
    assert requests.get(f"{url}/api/search?page=zéro", timeout=10).status_code == 429


def test_without_a_time_the_portal_keeps_no_answer(tmp_path):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app

    config = Config(data_dir=tmp_path, response_cache_seconds=0)
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records())
    client = create_app(config).test_client()
    for _ in range(2):
        assert client.get("/recherche?q=bougie").status_code == 200
    assert len(client.application.extensions[EXTENSION]) == 0


def test_a_refused_search_is_not_kept(tmp_path):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app

    config = Config(data_dir=tmp_path, api_rate_limit="off", search_cache_size=10, response_cache_seconds=60)
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records())
    client = create_app(config).test_client()
    assert client.get("/api/search?page=zéro").status_code == 400
    assert client.get("/recherche?q=bougie").status_code == 200
    assert len(client.application.extensions[EXTENSION]) == 1
