"""The exact settings, mappings and request bodies the Elasticsearch backend sends.

MOCKED AT THE HTTP LAYER: no Elasticsearch server can run on this machine (no server
package is reachable), so these tests drive the real ``elasticsearch`` client and the real
``helpers.streaming_bulk`` through a fake ``elastic_transport`` node that records every
request (method, path, decoded body, headers) and answers with canned responses shaped
like a real 9.x server's. They prove what we *send* and how we *read* answers; whether a
live cluster agrees is what the contract suite checks with ``ELASTICSEARCH_URL`` set
(``pytest -m elasticsearch``).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse

from indexer.analysis import plan_words
from indexer.backends.base import Near, SearchQuery
from indexer.backends.common import browse_rank, record_key
from indexer.backends.elasticsearch_backend import (
    REBUILT_BY,
    ElasticsearchBackend,
    analysis_settings,
    document,
    index_template,
    make_client,
    mappings,
    search_body,
    text_query,
)
from indexer.load import write_batch

URL = "http://es.test:9200"


class FakeServer:
    """Records requests; ``routes`` maps (method, path prefix) to a responder."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.routes: list[tuple[str, str, Callable[[dict], tuple[int, Any]]]] = []

    def on(self, method: str, path: str, responder) -> None:
        self.routes.insert(0, (method, path, responder if callable(responder) else (lambda r, v=responder: v)))

    def handle(self, method: str, target: str, body: bytes | None, headers) -> tuple[int, bytes]:
        path, _, query = target.partition("?")
        text = body.decode() if body else ""
        if text and "\n" in text.strip():  # bulk / msearch: NDJSON
            decoded: Any = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            decoded = json.loads(text) if text else None
        request = {"method": method, "path": path, "query": query, "body": decoded, "headers": dict(headers or {})}
        self.requests.append(request)
        for route_method, prefix, responder in self.routes:
            if route_method == method and path.startswith(prefix):
                status, payload = responder(request)
                return status, (json.dumps(payload).encode() if payload is not None else b"")
        return 404, json.dumps(
            {"error": {"type": "resource_not_found_exception", "reason": path}, "status": 404}
        ).encode()

    def find(self, method: str, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["method"] == method and r["path"].startswith(path_prefix)]


def fake_client(server: FakeServer, **options):
    class FakeNode(BaseNode):
        _CLIENT_META_HTTP_CLIENT = ("fake", "1.0")

        def perform_request(self, method, target, body=None, headers=None, request_timeout=None):
            status, payload = server.handle(method, target, body, headers)
            meta = ApiResponseMeta(
                status=status,
                http_version="1.1",
                headers=HttpHeaders(
                    {
                        "content-type": "application/vnd.elasticsearch+json;compatible-with=9",
                        "x-elastic-product": "Elasticsearch",
                    }
                ),
                duration=0.0,
                node=self.config,
            )
            return NodeApiResponse(meta, payload)

    return make_client(URL, node_class=FakeNode, max_retries=2, **options)


def acknowledged(_request):
    return 200, {"acknowledged": True}


def bulk_ok(request):
    lines = request["body"]
    items = []
    for action in lines[0::2]:
        op, meta = next(iter(action.items()))
        items.append(
            {
                op: {
                    "_index": meta["_index"],
                    "_id": meta["_id"],
                    "_version": 1,
                    "result": "created",
                    "status": 201,
                    "_shards": {"total": 2, "successful": 1, "failed": 0},
                }
            }
        )
    return 200, {"took": 3, "errors": False, "items": items}


@pytest.fixture
def server() -> FakeServer:
    server = FakeServer()
    server.on("PUT", "/_index_template/", acknowledged)
    server.on("HEAD", "/_alias/", (404, None))
    server.on(
        "PUT",
        "/emplettes-v",
        lambda r: (200, {"acknowledged": True, "shards_acknowledged": True, "index": r["path"].strip("/")}),
    )
    server.on(
        "POST",
        "/emplettes/_mget",
        lambda r: (200, {"docs": [{"_index": "emplettes-v1", "_id": i, "found": False} for i in r["body"]["ids"]]}),
    )
    server.on("PUT", "/_bulk", bulk_ok)
    server.on("POST", "/_bulk", bulk_ok)
    server.on("POST", "/emplettes/_refresh", (200, {"_shards": {"total": 2, "successful": 1, "failed": 0}}))
    return server


def product(n: int, **changes) -> dict[str, Any]:
    record = {
        "type": "product",
        "id": f"shop-p{n}",
        "source_id": "shop",
        "run_id": "20261101T080000Z-aaaa",
        "shop_id": "shop-shop",
        "shop_name": "La Théière Bleue",
        "town": "Laval",
        "postcode": "53000",
        "lat": 48.07,
        "lon": -0.77,
        "categories": ["Thé & café"],
        "services": ["delivery"],
        "name": f"Théière {n}",
        "description": "Fonte.",
        "brand": None,
        "category": "Théières",
        "price": "59.90",
        "currency": "EUR",
        "availability": "in_stock",
        "url": f"https://shop.example.fr/{n}",
        "image": None,
        "first_seen": "2026-10-03T09:00:00Z",
        "last_seen": "2026-11-01T08:00:00Z",
    }
    record.update(changes)
    return record


# ---------------------------------------------------------------------------- settings and mappings


def test_french_analysis_chain_is_exact():
    settings = analysis_settings()
    assert settings["filter"] == {
        "fr_elision": {
            "type": "elision",
            "articles_case": True,
            "articles": ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"],
        },
        "fr_stop": {"type": "stop", "stopwords": "_french_"},
        "fr_folded_stop": {
            "type": "stop",
            "stopwords": ["a", "meme", "etes", "etant", "etee", "etees", "eumes", "eutes", "fumes", "futes"],
        },
        "fr_stemmer": {"type": "stemmer", "language": "french"},
    }
    assert settings["analyzer"] == {
        "fr_index": {
            "type": "custom",
            "tokenizer": "standard",
            "filter": ["fr_elision", "lowercase", "fr_stop", "asciifolding", "fr_folded_stop", "fr_stemmer"],
        },
        "fr_fold": {"type": "custom", "tokenizer": "standard", "filter": ["fr_elision", "lowercase", "asciifolding"]},
    }


def test_synonyms_come_from_the_shared_file_through_the_query(tmp_path, monkeypatch):
    path = tmp_path / "synonymes.txt"
    path.write_text("# commentaire\nvélo, bicyclette\n\ncafé, kawa\n", encoding="utf-8")
    monkeypatch.setenv("SYNONYMS_FILE", str(path))
    # No synonym filter in the index: the shared planner expands the words, for both
    # backends, and a chamber's edit applies without a reindex.
    assert "fr_synonyms" not in analysis_settings()["filter"]
    assert [c.alternatives for c in plan_words("kawa")] == [(("kawa",), ("kawas",), ("cafe",))]
    name = text_query(plan_words("kawa"), "strict")["bool"]["must"][0]["dis_max"]["queries"][0]
    assert name["dis_max"]["queries"][1] == {
        "constant_score": {
            "filter": {
                "bool": {
                    "should": [{"match": {"name": {"query": "cafe", "operator": "and"}}}],
                    "minimum_should_match": 1,
                }
            },
            "boost": 6.0,
        }
    }


def test_mappings_are_exact():
    text = {"type": "text", "analyzer": "fr_index"}
    with_keyword = {**text, "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}}
    assert mappings() == {
        "dynamic": False,
        "properties": {
            "id": {"type": "keyword"},
            "type": {"type": "keyword"},
            "source_id": {"type": "keyword"},
            "run_id": {"type": "keyword"},
            "shop_id": {"type": "keyword"},
            "shop_name": with_keyword,
            "town": with_keyword,
            "postcode": {"type": "keyword"},
            "categories": with_keyword,
            "services": {"type": "keyword"},
            "availability": {"type": "keyword"},
            "name": {
                **text,
                "fields": {
                    "keyword": {"type": "keyword", "ignore_above": 512},
                    "words": {"type": "text", "analyzer": "fr_fold"},
                },
            },
            "description": text,
            "brand": text,
            "category": text,
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "currency": {"type": "keyword"},
            "location": {"type": "geo_point"},
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "key": {"type": "long"},
            "tie": {"type": "long"},
            "browse": {"type": "long"},
            "name_head": {"type": "keyword"},
        },
    }


def test_index_template_covers_every_version():
    template = index_template("emplettes", shards=1, replicas=0)
    assert template["index_patterns"] == ["emplettes-v*"]
    assert template["template"]["settings"]["number_of_shards"] == 1
    assert template["template"]["settings"]["number_of_replicas"] == 0
    assert template["template"]["settings"]["max_result_window"] == 10_000
    assert template["template"]["mappings"] == mappings()


def test_document_adds_engine_fields_only():
    record = product(1)
    doc = document(record)
    assert doc["location"] == {"lat": 48.07, "lon": -0.77}
    assert doc["key"] == record_key("shop-p1") and doc["tie"] == record_key("shop-p1") & ((1 << 20) - 1)
    assert doc["name_head"] == "theier"  # stem of the name's first word, as the embedded backend indexes it
    assert doc["browse"] == browse_rank(record)  # the order of a browse without words
    assert {k: v for k, v in doc.items() if k not in ("key", "tie", "location", "name_head", "browse")} == record
    shop = {"type": "shop", "id": "shop-shop", "name": "x", "lat": 48.0, "lon": -0.7}
    assert "location" not in document(shop)  # geo searches are product searches


# ---------------------------------------------------------------------------- connection


def test_api_key_basic_auth_and_retries_are_configured(server):
    server.on("GET", "/emplettes/_doc/", (404, {"_index": "emplettes-v1", "_id": "x", "found": False}))
    backend = ElasticsearchBackend(client=fake_client(server, api_key="c2VjcmV0"), prefix="emplettes")
    assert backend.get("x") is None
    assert server.requests[-1]["headers"]["authorization"] == "ApiKey c2VjcmV0"
    backend = ElasticsearchBackend(client=fake_client(server, basic_auth=("chambre", "mdp")))
    backend.get("x")
    assert server.requests[-1]["headers"]["authorization"].startswith("Basic ")
    client = make_client(URL, api_key="k", ca_certs=None)
    # The client passes these to the transport with every request.
    assert client._retry_on_status == (429, 502, 503, 504)
    assert client._max_retries == 5 and client._retry_on_timeout


def test_unreachable_cluster_is_backend_unavailable():
    from indexer.backends.base import BackendUnavailable

    backend = ElasticsearchBackend("http://127.0.0.1:9", prefix="emplettes")
    backend.client = backend.client.options(max_retries=0, request_timeout=0.5)
    with pytest.raises(BackendUnavailable):
        backend.search(SearchQuery(text="bougie"))


def test_open_backend_switches_on_search_backend(monkeypatch):
    from config import Config
    from indexer.backends.base import BackendUnavailable
    from indexer.search import open_backend

    monkeypatch.setenv("SEARCH_BACKEND", "elasticsearch")
    monkeypatch.setenv("ELASTICSEARCH_URL", URL)
    monkeypatch.setenv("ELASTICSEARCH_API_KEY", "a2V5")
    monkeypatch.setenv("ELASTICSEARCH_INDEX", "laval")
    backend = open_backend(Config(), readonly=True)
    assert isinstance(backend, ElasticsearchBackend)
    assert backend.alias == "laval" and backend.readonly
    monkeypatch.setenv("ELASTICSEARCH_URL", "")
    with pytest.raises(BackendUnavailable):
        open_backend(Config())


# ---------------------------------------------------------------------------- writing


def test_first_write_creates_template_then_a_versioned_index_behind_the_alias(server):
    backend = ElasticsearchBackend(client=fake_client(server), prefix="emplettes", replicas=0)
    assert write_batch(backend, [product(1), product(2), product(1, name="Théière bleue")]) == 2
    template = server.find("PUT", "/_index_template/emplettes-template")[0]
    assert template["body"] == index_template("emplettes", replicas=0)
    assert server.find("HEAD", "/_alias/emplettes")
    created = [r for r in server.find("PUT", "/emplettes-v") if r["body"] and "aliases" in r["body"]]
    assert created[0]["body"] == {"aliases": {"emplettes": {"is_write_index": True}}}
    assert created[0]["path"].startswith("/emplettes-v2")  # emplettes-v<UTC timestamp>
    assert server.find("POST", "/emplettes/_mget")[0]["body"] == {"ids": ["shop-p1", "shop-p2"]}
    bulk = (server.find("PUT", "/_bulk") + server.find("POST", "/_bulk"))[0]["body"]
    assert bulk[0] == {"index": {"_index": "emplettes", "_id": "shop-p1"}}
    assert bulk[1]["name"] == "Théière bleue" and bulk[1]["key"] == record_key("shop-p1")
    assert bulk[2] == {"index": {"_index": "emplettes", "_id": "shop-p2"}}
    assert server.find("POST", "/emplettes/_refresh")


def test_a_loaded_batch_keeps_first_seen_of_known_products(server):
    server.on(
        "POST",
        "/emplettes/_mget",
        (
            200,
            {
                "docs": [
                    {
                        "_index": "emplettes-v1",
                        "_id": "shop-p1",
                        "_version": 3,
                        "_seq_no": 4,
                        "_primary_term": 1,
                        "found": True,
                        "_source": {"first_seen": "2026-09-01T00:00:00Z"},
                    },
                ]
            },
        ),
    )
    backend = ElasticsearchBackend(client=fake_client(server))
    write_batch(backend, [product(1, first_seen="2026-11-02T08:00:00Z")])
    assert server.find("POST", "/emplettes/_mget")[0]["query"] == "_source_includes=first_seen"
    bulk = (server.find("PUT", "/_bulk") + server.find("POST", "/_bulk"))[0]["body"]
    assert bulk[1]["first_seen"] == "2026-09-01T00:00:00Z"


def test_bulk_retries_429_with_backoff_and_reports_rejected_documents(server, monkeypatch):
    import elasticsearch.helpers.actions as actions

    sleeps = []
    monkeypatch.setattr(actions.time, "sleep", sleeps.append)
    calls = []

    def flaky(request):
        calls.append(request)
        lines = request["body"]
        items = []
        for action in lines[0::2]:
            meta = action["index"]
            if meta["_id"] == "shop-p2" and len(calls) == 1:  # queue full the first time
                items.append(
                    {
                        "index": {
                            "_index": "emplettes-v1",
                            "_id": meta["_id"],
                            "status": 429,
                            "error": {
                                "type": "es_rejected_execution_exception",
                                "reason": "rejected execution of coordinating operation",
                            },
                        }
                    }
                )
            elif meta["_id"] == "shop-p3":  # a document the mapping refuses: reported, not retried
                items.append(
                    {
                        "index": {
                            "_index": "emplettes-v1",
                            "_id": meta["_id"],
                            "status": 400,
                            "error": {
                                "type": "document_parsing_exception",
                                "reason": "[1:200] failed to parse field [price]",
                            },
                        }
                    }
                )
            else:
                items.append(
                    {"index": {"_index": "emplettes-v1", "_id": meta["_id"], "status": 201, "result": "created"}}
                )
        return 200, {"took": 2, "errors": True, "items": items}

    server.on("PUT", "/_bulk", flaky)
    server.on("POST", "/_bulk", flaky)
    backend = ElasticsearchBackend(client=fake_client(server), initial_backoff=2, max_backoff=30)
    written = backend.upsert([product(1), product(2), product(3, price="abc")])
    assert written == 2
    assert len(calls) == 2 and [a["index"]["_id"] for a in calls[1]["body"][0::2]] == ["shop-p2"]
    assert sleeps == [2]  # back-off before the retry
    assert backend.last_rejected == [
        {
            "id": "shop-p3",
            "status": 400,
            "error": {"type": "document_parsing_exception", "reason": "[1:200] failed to parse field [price]"},
        }
    ]


def test_delete_source_is_a_delete_by_query(server):
    server.on(
        "POST",
        "/emplettes/_delete_by_query",
        (
            200,
            {
                "took": 12,
                "timed_out": False,
                "total": 3,
                "deleted": 3,
                "batches": 1,
                "version_conflicts": 0,
                "noops": 0,
                "retries": {"bulk": 0, "search": 0},
                "throttled_millis": 0,
                "requests_per_second": -1.0,
                "throttled_until_millis": 0,
                "failures": [],
            },
        ),
    )
    backend = ElasticsearchBackend(client=fake_client(server))
    assert backend.delete_source("shop", keep_run="20261102T080000Z-bbbb") == 3
    request = server.find("POST", "/emplettes/_delete_by_query")[0]
    assert request["body"] == {
        "query": {
            "bool": {
                "filter": [{"term": {"source_id": "shop"}}],
                "must_not": [{"term": {"run_id": "20261102T080000Z-bbbb"}}],
            }
        }
    }
    assert "conflicts=proceed" in request["query"] and "refresh=true" in request["query"]


def test_a_bulk_load_refreshes_once_and_before_a_sweep_that_needs_it(server):
    server.on("POST", "/emplettes/_delete_by_query", (200, {"deleted": 0, "failures": []}))
    backend = ElasticsearchBackend(client=fake_client(server))
    old, new = "20261101T080000Z-aaaa", "20261102T080000Z-bbbb"
    with backend.bulk():
        backend.upsert([product(1, run_id=old), product(2, run_id=old)])
        backend.upsert([product(3, source_id="other", run_id=new)])
        backend.delete_source("shop", keep_run=old)  # only this run's records written: no refresh needed
        assert server.find("POST", "/emplettes/_refresh") == []
        backend.upsert([product(1, run_id=new)])
        backend.delete_source("shop", keep_run=new)  # the old run's records must be searchable to go
        refreshed = server.find("POST", "/emplettes/_refresh")
        assert len(refreshed) == 1
        assert server.requests.index(refreshed[0]) < server.requests.index(
            server.find("POST", "/emplettes/_delete_by_query")[1]
        )
    assert len(server.find("POST", "/emplettes/_refresh")) == 2  # and once when the block ends
    backend.upsert([product(4)])
    assert len(server.find("POST", "/emplettes/_refresh")) == 3  # outside bulk(): every upsert


def test_readonly_backend_never_writes(server):
    backend = ElasticsearchBackend(client=fake_client(server), readonly=True)
    with pytest.raises(PermissionError):
        backend.upsert([product(1)])
    assert server.requests == []


def test_rebuild_fills_a_new_version_then_moves_the_alias_atomically(server):
    server.on("GET", "/_alias/emplettes", (200, {"emplettes-v20261101080000000000": {"aliases": {"emplettes": {}}}}))
    server.on("POST", "/_aliases", acknowledged)
    server.on("DELETE", "/emplettes-v", acknowledged)
    server.on("POST", "/emplettes-v", (200, {"_shards": {"total": 1, "successful": 1, "failed": 0}}))
    backend = ElasticsearchBackend(client=fake_client(server))
    fresh = backend.start_rebuild()
    new = fresh._write_index
    assert new.startswith("emplettes-v") and new != "emplettes-v20261101080000000000"
    # Settings and mappings come from the template; the body only says who fills it.
    builder = {"host": socket.gethostname(), "pid": os.getpid()}
    assert server.find("PUT", f"/{new}")[0]["body"] == {"mappings": {"_meta": {REBUILT_BY: builder}}}
    fresh.upsert([product(1)])
    bulk = (server.find("PUT", "/_bulk") + server.find("POST", "/_bulk"))[0]["body"]
    assert bulk[0] == {"index": {"_index": new, "_id": "shop-p1"}}  # not through the alias
    backend.finish_rebuild(fresh)
    assert server.find("POST", "/_aliases")[0]["body"] == {
        "actions": [
            {"remove": {"index": "emplettes-v20261101080000000000", "alias": "emplettes"}},
            {"add": {"index": new, "alias": "emplettes", "is_write_index": True}},
        ]
    }
    assert server.find("DELETE", "/emplettes-v20261101080000000000")


# ---------------------------------------------------------------------------- searching


def test_search_body_with_disjunctive_facets_geo_and_price_sort():
    query = SearchQuery(
        text="",
        filters={"town": ("Laval",), "availability": ("in_stock", "preorder"), "shop_id": ("s1",)},
        price_min=Decimal("5"),
        price_max=Decimal("50"),
        near=Near(48.07, -0.77, 10),
        sort="price_asc",
        page=2,
        per_page=20,
        facets=("town", "availability"),
    )
    body = search_body(query, None, facet_size=50)
    assert body["query"] == {
        "bool": {
            "filter": [
                {"term": {"type": "product"}},
                {"range": {"price": {"gte": 5.0, "lte": 50.0}}},
                {
                    "geo_distance": {
                        "distance": "10km",
                        "distance_type": "arc",
                        "location": {"lat": 48.07, "lon": -0.77},
                    }
                },
                {"terms": {"shop_id": ["s1"]}},  # not a facet: applies to the counts too
            ]
        }
    }
    assert body["post_filter"] == {
        "bool": {
            "filter": [{"terms": {"town.keyword": ["Laval"]}}, {"terms": {"availability": ["in_stock", "preorder"]}}]
        }
    }
    assert body["aggs"]["town"] == {
        "filter": {"bool": {"filter": [{"terms": {"availability": ["in_stock", "preorder"]}}]}},
        "aggs": {
            "values": {
                "terms": {
                    "field": "town.keyword",
                    "size": 50,
                    "shard_size": 65_000,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            },
            "selected": {"terms": {"field": "town.keyword", "include": ["Laval"], "size": 1}},
        },
    }
    assert body["aggs"]["availability"]["filter"] == {"bool": {"filter": [{"terms": {"town.keyword": ["Laval"]}}]}}
    assert body["sort"] == [{"price": {"order": "asc", "missing": "_last"}}, {"tie": {"order": "asc"}}]
    assert (body["from"], body["size"], body["track_total_hits"]) == (20, 20, True)


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("price_desc", [{"price": {"order": "desc", "missing": "_last"}}, {"tie": {"order": "desc"}}]),
        ("newest", [{"first_seen": {"order": "desc", "missing": "_last"}}, {"tie": {"order": "desc"}}]),
        ("relevance", ["_score", {"key": {"order": "asc"}}]),
        (
            "distance",
            [
                {
                    "_geo_distance": {
                        "location": {"lat": 48.0, "lon": -0.7},
                        "order": "asc",
                        "unit": "km",
                        "distance_type": "arc",
                    }
                },
                {"key": {"order": "asc"}},
            ],
        ),
    ],
)
def test_sorts_break_ties_like_the_embedded_backend(sort, expected):
    body = search_body(SearchQuery(text="thé", sort=sort, near=Near(48.0, -0.7, 5)), {"match_all": {}})
    assert body["sort"] == expected


def test_text_query_uses_the_shared_constant_scores():
    query = text_query(plan_words("huile d'olive"), "strict")
    core, should = query["bool"]["must"][0], query["bool"]["should"]
    huile = core["bool"]["must"][0]["dis_max"]["queries"]
    assert huile[0] == {
        "constant_score": {
            "filter": {
                "bool": {
                    "should": [
                        {"match": {"name": {"query": "huile", "operator": "and"}}},
                        {"match": {"name": {"query": "huiles", "operator": "and"}}},
                    ],
                    "minimum_should_match": 1,
                }
            },
            "boost": 8.0,
        }
    }
    # name, category, shop's categories, brand, shop's name, description
    assert [q["constant_score"]["boost"] for q in huile] == [8.0, 4.0, 3.0, 2.0, 2.0, 1.0]
    assert [next(iter(q["constant_score"]["filter"]["bool"]["should"][0]["match"])) for q in huile] == [
        "name",
        "category",
        "categories",
        "brand",
        "shop_name",
        "description",
    ]
    assert should[:3] == [  # availability only breaks ties
        {"constant_score": {"filter": {"term": {"availability": "in_stock"}}, "boost": 0.125}},
        {"constant_score": {"filter": {"term": {"availability": "preorder"}}, "boost": 0.0625}},
        {"constant_score": {"filter": {"term": {"availability": "unknown"}}, "boost": 0.0625}},
    ]
    assert should[3] == {
        "constant_score": {"filter": {"match_phrase": {"name": {"query": "huile olive", "slop": 1}}}, "boost": 4.0}
    }
    assert should[4] == {"constant_score": {"filter": {"terms": {"name_head": ["huil", "oliv"]}}, "boost": 2.0}}
    chandelle = text_query(plan_words("chandelle"), "strict")["bool"]["must"][0]["dis_max"]["queries"][0]
    assert chandelle["dis_max"]["queries"][1]["constant_score"] == {
        "filter": {
            "bool": {"should": [{"match": {"name": {"query": "bougie", "operator": "and"}}}], "minimum_should_match": 1}
        },
        "boost": 6.0,
    }
    fuzzy = text_query(plan_words("bougei"), "fuzzy")["bool"]["must"][0]["dis_max"]["queries"][0]
    assert fuzzy["dis_max"]["queries"][1] == {
        "constant_score": {
            "filter": {
                "bool": {
                    "should": [
                        {"match": {"name": {"query": "bougei", "fuzziness": 1}}},
                        {"match": {"name.words": {"query": "bougei", "fuzziness": 1}}},
                        {"match": {"name.words": {"query": "bougeis", "fuzziness": 1}}},
                    ],
                    "minimum_should_match": 1,
                }
            },
            "boost": 4.0,
        }
    }
    description = text_query(plan_words("bougei"), "fuzzy")["bool"]["must"][0]["dis_max"]["queries"][5]
    assert description["dis_max"]["queries"][1] == {
        "constant_score": {"filter": {"match": {"description": {"query": "bougei", "fuzziness": 1}}}, "boost": 0.5}
    }


def test_search_reads_hits_totals_facets_and_falls_back_to_typos(server):
    stored = document(product(1, name="Bougie parfumée"))
    searches = []

    def answer(request):
        searches.append(request["body"])
        body = request["body"]
        if "fuzziness" not in json.dumps(body):  # nothing for the words as typed
            return 200, {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": None, "hits": []},
                "aggregations": {},
            }
        return 200, {
            "took": 4,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "max_score": None,
                "hits": [
                    {
                        "_index": "emplettes-v1",
                        "_id": "shop-p1",
                        "_score": 6.0,
                        "_source": stored,
                        "sort": [6.0, stored["key"]],
                    }
                ],
            },
            "aggregations": {
                "town": {
                    "doc_count": 1,
                    "values": {
                        "doc_count_error_upper_bound": 0,
                        "sum_other_doc_count": 0,
                        "buckets": [{"key": "Laval", "doc_count": 1}],
                    },
                },
                "availability": {
                    "doc_count": 1,
                    "values": {
                        "doc_count_error_upper_bound": 0,
                        "sum_other_doc_count": 0,
                        "buckets": [{"key": "in_stock", "doc_count": 1}],
                    },
                    "selected": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": []},
                },
            },
        }

    server.on("POST", "/emplettes/_search", answer)
    backend = ElasticsearchBackend(client=fake_client(server))
    result = backend.search(
        SearchQuery(
            text="bougei",
            near=Near(48.0, -0.7, 25),
            filters={"availability": ("in_stock", "out_of_stock")},
            facets=("town", "availability"),
        )
    )
    assert len(searches) == 2  # the words as typed, then typos forgiven: each a full search
    assert searches[0] == {**searches[1], "query": searches[0]["query"]}
    assert "fuzziness" not in json.dumps(searches[0]) and "fuzziness" in json.dumps(searches[1])
    assert result.total == 1
    hit = result.hits[0]
    assert "key" not in hit and "location" not in hit and hit["id"] == "shop-p1"
    assert hit["distance_km"] == 9.4
    assert hit["name_highlight"] == [("Bougie", True), (" parfumée", False)]
    assert [(f.value, f.count, f.selected) for f in result.facets["availability"]] == [
        ("in_stock", 1, True),
        ("out_of_stock", 0, True),
    ]
    assert [(f.value, f.count) for f in result.facets["town"]] == [("Laval", 1)]


def test_search_before_any_index_exists_is_empty(server):
    backend = ElasticsearchBackend(client=fake_client(server), readonly=True)
    result = backend.search(SearchQuery(text="bougie"))
    assert result.total == 0 and result.hits == []


def test_suggest_matches_whole_words_and_the_last_one_as_a_prefix(server):
    server.on(
        "POST",
        "/emplettes/_search",
        (
            200,
            {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": 3, "relation": "eq"}, "max_score": None, "hits": []},
                "aggregations": {
                    "n": {
                        "doc_count_error_upper_bound": 0,
                        "sum_other_doc_count": 0,
                        "buckets": [
                            {"key": "Lot de 3 bougies", "doc_count": 2},
                            {"key": "Bougie vanille", "doc_count": 1},
                        ],
                    }
                },
            },
        ),
    )
    backend = ElasticsearchBackend(client=fake_client(server))
    assert backend.suggest("Boug") == ["Bougie vanille", "Lot de 3 bougies"]
    body = server.find("POST", "/emplettes/_search")[0]["body"]
    assert body["query"] == {"bool": {"filter": [{"term": {"type": "product"}}, {"prefix": {"name.words": "boug"}}]}}
    backend.suggest("Théière en f")
    body = server.find("POST", "/emplettes/_search")[1]["body"]
    assert body["query"]["bool"]["filter"][1:] == [
        {"term": {"name.words": "theiere"}},
        {"term": {"name.words": "en"}},
        {"prefix": {"name.words": "f"}},
    ]
    assert body["aggs"] == {"n": {"terms": {"field": "name.keyword", "size": 40}}}


def test_stats_and_shops_requests(server):
    shop = {"type": "shop", "id": "a-shop", "source_id": "a", "name": "Épicerie", "town": "Laval", "key": 7}

    def answer(request):
        body = request["body"]
        if body["query"] == {"term": {"type": "shop"}} and body.get("size") == 0:
            return 200, {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": 1, "relation": "eq"}, "max_score": None, "hits": []},
            }
        if body["query"] == {"term": {"type": "shop"}}:
            return 200, {
                "took": 1,
                "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {
                    "total": {"value": 1, "relation": "eq"},
                    "max_score": None,
                    "hits": [{"_index": "emplettes-v1", "_id": "a-shop", "_score": None, "_source": shop, "sort": [7]}],
                },
            }
        return 200, {
            "took": 2,
            "timed_out": False,
            "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
            "hits": {"total": {"value": 12, "relation": "eq"}, "max_score": None, "hits": []},
            "aggregations": {
                "s": {
                    "doc_count_error_upper_bound": 0,
                    "sum_other_doc_count": 0,
                    "buckets": [{"key": "b", "doc_count": 7}, {"key": "a", "doc_count": 5}],
                }
            },
        }

    server.on("POST", "/emplettes/_search", answer)
    backend = ElasticsearchBackend(client=fake_client(server))
    assert backend.stats() == {"products": 12, "shops": 1, "sources": {"a": 5, "b": 7}}
    products = server.find("POST", "/emplettes/_search")[0]["body"]
    assert products == {
        "query": {"term": {"type": "product"}},
        "size": 0,
        "track_total_hits": True,
        "aggs": {"s": {"terms": {"field": "source_id", "size": 65_000}}},
    }
    assert backend.shops() == [{k: v for k, v in shop.items() if k != "key"}]
    assert server.find("POST", "/emplettes/_search")[-1]["body"] == {
        "query": {"term": {"type": "shop"}},
        "size": 10_000,
        "sort": [{"key": "asc"}],
    }
