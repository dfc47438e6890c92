"""Pages that read the whole catalogue are computed once per index generation, on each backend.

``/boutiques``, the home page's counts, the sitemap and ``/api/shops`` read every shop or
count every product. The real portal runs over a real backend wrapped to count those
whole-catalogue reads; a writer then changes the index, as a load does, and the pages
show the change with one more read.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
from backend_catalogue import BACKENDS, CATALOGUE, SHOP_RECORDS, shop_record

from indexer.search import SearchBackend, SearchQuery


class CountingBackend:
    """A real backend, counting the reads of the whole catalogue; everything else passes through."""

    def __init__(self, backend: SearchBackend):
        self.backend = backend
        self.calls: Counter[str] = Counter()

    def shops(self) -> list[dict[str, Any]]:
        self.calls["shops"] += 1
        return self.backend.shops()

    def stats(self) -> dict[str, Any]:
        self.calls["stats"] += 1
        return self.backend.stats()

    def search(self, query: SearchQuery):
        if not query.text and not query.filters and query.facets == ("town", "category") and query.per_page == 1:
            self.calls["home_counts"] += 1
        return self.backend.search(query)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)


@pytest.fixture(params=BACKENDS)
def portal(request, tmp_path):
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread

    factory = request.param
    writer = factory(tmp_path / "index")
    writer.upsert(SHOP_RECORDS[:-1] + CATALOGUE)
    reader = CountingBackend(factory(tmp_path / "index", readonly=True))
    app = create_app(Config(data_dir=tmp_path / "data"), backend=reader)
    with serving_in_thread(app) as base:
        yield base, reader, writer
    reader.backend.close()
    writer.close()


def get(base: str, path: str) -> requests.Response:
    response = requests.get(base + path, timeout=30)
    assert response.status_code == 200, (path, response.status_code)
    return response


HEAVY = ["/boutiques", "/boutiques?town=Laval", "/boutiques?page=2", "/sitemap.xml", "/", "/api/shops"]


def test_whole_catalogue_pages_read_the_index_once_per_generation(portal):
    base, reader, writer = portal
    missing = SHOP_RECORDS[-1]
    for _ in range(3):
        for path in HEAVY:
            get(base, path)
    assert reader.calls == {"shops": 1, "stats": 1, "home_counts": 1}, "once for every page and request"
    assert missing["name"] not in get(base, "/boutiques").text

    # A load changes the index: the next request sees the new generation and reads it again, once.
    writer.upsert([shop_record(missing["source_id"], run_id="20261102T080000Z-bbbb")])
    for _ in range(2):
        for path in HEAVY:
            get(base, path)
    assert reader.calls == {"shops": 2, "stats": 2, "home_counts": 2}
    assert missing["name"] in get(base, "/boutiques").text
    assert f"/boutique/{missing['id']}<" in get(base, "/sitemap.xml").text


def test_threads_asking_together_wait_for_one_computation():
    """Eight requests arriving while the directory is being computed do not compute it eight times."""
    import threading
    import time

    from portal.generations import PerGeneration

    store = PerGeneration()
    computing, release = threading.Event(), threading.Event()
    computed: list[int] = []

    def compute() -> str:
        computed.append(1)
        computing.set()
        release.wait(10)
        return "répertoire"

    answers: list[str] = []
    first = threading.Thread(target=lambda: answers.append(store.get("directory", 7, compute)))
    first.start()
    computing.wait(10)
    others = [threading.Thread(target=lambda: answers.append(store.get("directory", 7, compute))) for _ in range(7)]
    for thread in others:
        thread.start()
    time.sleep(0.2)  # lets the seven reach the store while the first still computes (no time asserted)
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert answers == ["répertoire"] * 8 and computed == [1]
    assert store.get("directory", 8, lambda: "suivant") == "suivant", "a new generation computes again"


def test_a_client_asking_for_the_directory_in_a_loop_gets_a_429_and_searches_do_not(tmp_path):
    from backend_catalogue import _tantivy

    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread

    writer = _tantivy(tmp_path / "data" / "index")
    writer.upsert(SHOP_RECORDS + CATALOGUE)
    writer.close()
    app = create_app(Config(data_dir=tmp_path / "data", directory_rate_limit="3/minute", api_rate_limit="off"))
    with serving_in_thread(app) as base:
        statuses = [requests.get(base + path, timeout=30).status_code for path in ["/boutiques"] * 2 + ["/sitemap.xml"]]
        assert statuses == [200, 200, 200]
        refused = requests.get(base + "/boutiques?page=2", timeout=30)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert "Trop de demandes" in refused.text and refused.headers["Content-Type"].startswith("text/html")
        assert requests.get(base + "/sitemap.xml", timeout=30).status_code == 429
        assert all(requests.get(base + path, timeout=30).status_code == 200 for path in ["/recherche?q=thé", "/"] * 3)
