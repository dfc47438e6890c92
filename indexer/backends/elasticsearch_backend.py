"""The Elasticsearch backend: for regions that outgrow one machine.

Same contract as the embedded backend (tests/test_backend_contract.py runs against both),
reached through the official ``elasticsearch`` client. Which client for which cluster:

* an Elasticsearch **9.x** cluster needs ``elasticsearch>=9,<10``;
* an Elasticsearch **8.x** cluster needs ``elasticsearch>=8,<9`` (a 9.x client refuses an
  8.x server: it sends ``compatible-with=9`` headers).

Shape of the index (see :func:`index_template`):

* **Versioned indices behind an alias.** Records live in ``<prefix>-v<timestamp>``; every
  read and write goes through the alias ``<prefix>``. ``emplettes reindex`` fills a new
  version, then one atomic ``_aliases`` call moves the alias: searches never see a
  half-built index. An index template (``<prefix>-template``, pattern ``<prefix>-v*``)
  carries settings and mappings, so every version gets the same ones.
* **French analysis**: ``elision`` (``articles_case: true``), ``lowercase``, ``stop``
  (``_french_``), ``asciifolding`` (after the accented stop list, before stemming, as on
  tantivy), the folded stop words tantivy also drops, then the Snowball ``french``
  stemmer, the one tantivy uses (``light_french`` stems differently, typos above all:
  it makes ``bojgiie`` ``bojg``, one edit from ``boug``, where tantivy has ``bojgii``),
  for documents and queries alike. Synonyms (``indexer/synonyms_fr.txt``, or
  ``SYNONYMS_FILE``) are expanded by the shared query planner, as on tantivy, and scored
  below the word typed: a chamber's edit applies at once, with no reindex.
* Facets use ``keyword`` sub-fields, shops' coordinates a ``geo_point``, suggestions and typos a
  sub-field of ``name`` holding its whole folded words.
* Scores are the constants of :mod:`indexer.backends.base` (``constant_score`` and
  ``dis_max``), ties broken by ``key``: the same order as on tantivy.
* One primary shard by default: terms aggregations are then exact (a region's catalogue
  of a few million offers fits one shard); ``number_of_shards`` can be raised, with
  ``shard_size`` keeping facet counts exact for the values shown.

Bulk writes use ``helpers.streaming_bulk`` with retries and back-off on 429 (the helper)
and 502/503/504 (the transport); documents Elasticsearch still rejects are reported in
``last_rejected`` and logged, never silently dropped.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from config.i18n import N_, _, ngettext
from indexer.analysis import (
    FOLDED_STOP_WORDS,
    Clause,
    analyze,
    clauses_text,
    fold,
    highlight_segments,
    name_head,
    plan_words,
    relax_clauses,
    typos_on_stems,
    word_forms,
)
from indexer.backends.base import (
    AVAILABILITY_BONUS,
    FACETS,
    FIELD_WEIGHTS,
    FILTERS,
    FUZZY_FACTORS,
    HEAD_BONUS,
    PHRASE_BONUS,
    SYNONYM_FACTOR,
    TEXT_SOURCES,
    BackendUnavailable,
    FacetValue,
    SearchBackend,
    SearchQuery,
    SearchResult,
    validate_query,
)
from indexer.backends.common import (
    MAX_PER_PAGE,
    MAX_RESULT_WINDOW,
    TIE_MASK,
    browse_rank,
    haversine_km,
    rank_suggestions,
    record_key,
    suggestion_words,
)
from indexer.places import resolve_place

log = logging.getLogger(__name__)

# Record field -> field searched or aggregated in Elasticsearch.
FACET_FIELDS: dict[str, str] = {
    "town": "town.keyword",
    "categories": "categories.keyword",
    "availability": "availability",
    "shop_name": "shop_name.keyword",
    "services": "services",
    "shop_id": "shop_id",
    "source_id": "source_id",
}
# Fields added to each record for the engine; removed again from hits.
ENGINE_FIELDS = ("key", "tie", "location", "name_head", "browse")
ELISION_ARTICLES = ["l", "m", "t", "qu", "n", "s", "j", "d", "c", "jusqu", "quoiqu", "lorsqu", "puisqu"]
RETRY_STATUSES = (429, 502, 503, 504)
REBUILT_BY = "emplettes_rebuild"  # in a rebuild's mappings' _meta: {"host", "pid"} of the process filling it
ORPHAN_GRACE_SECONDS = 86_400  # a version outside the alias built elsewhere: abandoned after a day
MAX_FACET_VALUES = 50


def analysis_settings() -> dict[str, Any]:
    """Analyzers: ``fr_index`` for documents and the words of a query, ``fr_fold`` for
    as-you-type suggestions.

    No synonym filter: :func:`indexer.analysis.plan_words` expands a resident's words with the
    shared synonyms file for both backends, and scores a synonym below the word typed. A
    ``synonym_graph`` here would expand them a second time, at full weight."""
    index_chain = ["fr_elision", "lowercase", "fr_stop", "asciifolding", "fr_folded_stop", "fr_stemmer"]
    return {
        "filter": {
            "fr_elision": {"type": "elision", "articles_case": True, "articles": ELISION_ARTICLES},
            "fr_stop": {"type": "stop", "stopwords": "_french_"},
            "fr_folded_stop": {"type": "stop", "stopwords": list(FOLDED_STOP_WORDS)},
            "fr_stemmer": {"type": "stemmer", "language": "french"},
        },
        "analyzer": {
            "fr_index": {"type": "custom", "tokenizer": "standard", "filter": index_chain},
            "fr_fold": {
                "type": "custom",
                "tokenizer": "standard",
                "filter": ["fr_elision", "lowercase", "asciifolding"],
            },
        },
    }


def _text(extra: dict | None = None) -> dict[str, Any]:
    return {"type": "text", "analyzer": "fr_index", **(extra or {})}


def _text_with_keyword() -> dict[str, Any]:
    return _text({"fields": {"keyword": {"type": "keyword", "ignore_above": 512}}})


def mappings() -> dict[str, Any]:
    """Products and shops in one index (``type`` tells them apart), as on tantivy."""
    return {
        "dynamic": False,  # other record fields stay in _source, unindexed
        "properties": {
            "id": {"type": "keyword"},
            "type": {"type": "keyword"},
            "source_id": {"type": "keyword"},
            "run_id": {"type": "keyword"},
            "shop_id": {"type": "keyword"},
            "shop_name": _text_with_keyword(),
            "town": _text_with_keyword(),
            "postcode": {"type": "keyword"},
            "categories": _text_with_keyword(),
            "services": {"type": "keyword"},
            "availability": {"type": "keyword"},
            "name": _text(
                {
                    "fields": {
                        "keyword": {"type": "keyword", "ignore_above": 512},
                        # Whole folded words, unstemmed (tantivy's ``name_words``): suggestions
                        # and typos. Not ``search_as_you_type``: 7.10.0 ignores its analyzer
                        # (elastic/elasticsearch#65319), and a prefix query does the same work.
                        "words": {"type": "text", "analyzer": "fr_fold"},
                    },
                }
            ),
            "description": _text(),
            "brand": _text(),
            "category": _text(),
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "currency": {"type": "keyword"},
            "location": {"type": "geo_point"},
            "first_seen": {"type": "date"},
            "last_seen": {"type": "date"},
            "key": {"type": "long"},
            "tie": {"type": "long"},
            # Order of a browse without words (common.browse_rank), as tantivy's sort_browse.
            "browse": {"type": "long"},
            # Stem of the name's first word, computed by emplettes (the same on both backends).
            "name_head": {"type": "keyword"},
        },
    }


def index_template(prefix: str, *, shards: int = 1, replicas: int = 1) -> dict:
    """The body of ``PUT _index_template/<prefix>-template``."""
    return {
        "index_patterns": [f"{prefix}-v*"],
        "priority": 200,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "max_result_window": MAX_RESULT_WINDOW,
                "analysis": analysis_settings(),
            },
            "mappings": mappings(),
        },
        "_meta": {"managed_by": "emplettes"},
    }


def document(record: dict[str, Any]) -> dict[str, Any]:
    """The _source stored for a record: the record plus the engine's fields."""
    doc = dict(record)
    key = record_key(record["id"])
    doc["key"], doc["tie"] = key, key & TIE_MASK
    if record.get("type") == "product":
        if record.get("lat") is not None and record.get("lon") is not None:
            doc["location"] = {"lat": float(record["lat"]), "lon": float(record["lon"])}
        head = name_head(record.get("name") or "")
        if head:
            doc["name_head"] = head
        doc["browse"] = browse_rank(record)
    return doc


def _record(source: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in source.items() if k not in ENGINE_FIELDS}


# ---------------------------------------------------------------------------- queries


# Text field of the shared ranking (base.FIELD_WEIGHTS) -> the field searched here.
TEXT_FIELD_NAMES: dict[str, str] = {name: TEXT_SOURCES[name] for name in FIELD_WEIGHTS}


def _field_match(name: str, clause: Clause, weight: float, fuzzy: bool) -> dict:
    field = TEXT_FIELD_NAMES[name]
    options = []
    for phrases, factor in ((clause.forms, 1.0), (clause.synonyms, SYNONYM_FACTOR)):
        exact = [{"match": {field: {"query": " ".join(phrase), "operator": "and"}}} for phrase in phrases]
        if exact:
            options.append(
                {
                    "constant_score": {
                        "filter": {"bool": {"should": exact, "minimum_should_match": 1}},
                        "boost": weight * factor,
                    }
                }
            )
    for distance in range(1, clause.fuzzy + 1) if fuzzy else ():
        # As on tantivy: against stems only from FUZZY_STEMS_LENGTH letters ("savon" is one
        # edit from "savoi", Savoie's stem), and against the whole words of names; fewer
        # edits score more.
        typos: list[dict] = []
        if typos_on_stems(clause.words[0]):
            typos.append({"match": {field: {"query": clause.words[0], "fuzziness": distance}}})
        if name == "name":
            # Whole (unstemmed) words too, singular and plural, as on tantivy: "bougei" is one
            # swap from "bougie", not from the stem "boug", and "bougeis" one from "bougies".
            typos += [
                {"match": {"name.words": {"query": form, "fuzziness": distance}}}
                for form in word_forms(clause.words[0])
            ]
        if typos:
            typo = typos[0] if len(typos) == 1 else {"bool": {"should": typos, "minimum_should_match": 1}}
            options.append({"constant_score": {"filter": typo, "boost": weight * FUZZY_FACTORS[distance]}})
    return options[0] if len(options) == 1 else {"dis_max": {"queries": options}}


def text_query(clauses: list[Clause], mode: str) -> dict | None:
    """The same scoring as the tantivy backend: per clause the best field's weight, plus
    availability and phrase bonuses. ``mode``: "strict", "fuzzy" or "relaxed" (typos
    forgiven; "relaxed" once the blocking words are dropped)."""
    if not clauses:
        return None
    fuzzy = mode != "strict"
    per_clause = [
        {"dis_max": {"queries": [_field_match(f, clause, w, fuzzy) for f, w in FIELD_WEIGHTS.items()]}}
        for clause in clauses
    ]
    core: dict[str, Any] = per_clause[0] if len(per_clause) == 1 else {"bool": {"must": per_clause}}
    should: list[dict] = [
        {"constant_score": {"filter": {"term": {"availability": value}}, "boost": score}}
        for value, score in AVAILABILITY_BONUS.items()
    ]
    words = [w for clause in clauses for w in clause.words]
    if len([s for w in words for s in analyze(w)]) > 1:
        should.append(
            {
                "constant_score": {
                    "filter": {"match_phrase": {"name": {"query": " ".join(words), "slop": 1}}},
                    "boost": PHRASE_BONUS,
                }
            }
        )
    heads = list(dict.fromkeys(stem for clause in clauses for stem in clause.stems()))
    if heads:
        should.append({"constant_score": {"filter": {"terms": {"name_head": heads}}, "boost": HEAD_BONUS}})
    return {"bool": {"must": [core], "should": should}}


def _terms_filter(name: str, values: Iterable[str]) -> dict:
    return {"terms": {FACET_FIELDS[FILTERS[name]]: list(dict.fromkeys(values))}}


def sort_clause(query: SearchQuery, has_text: bool) -> list:
    sort = query.sort if (query.sort != "distance" or query.near) else "relevance"
    # The tie-breakers mirror the tantivy backend's composite sort fields.
    if sort == "relevance" and has_text:
        return ["_score", {"key": {"order": "asc"}}]
    if sort == "relevance":  # browsing: in stock and recently seen first, then the tie bits (never the price)
        return [{"browse": {"order": "desc", "unmapped_type": "long"}}, {"tie": {"order": "desc"}}]
    if sort == "price_asc":
        return [{"price": {"order": "asc", "missing": "_last"}}, {"tie": {"order": "asc"}}]
    if sort == "price_desc":
        return [{"price": {"order": "desc", "missing": "_last"}}, {"tie": {"order": "desc"}}]
    if sort == "newest":
        return [{"first_seen": {"order": "desc", "missing": "_last"}}, {"tie": {"order": "desc"}}]
    near = query.near
    assert near is not None  # (a distance sort without a place sorts by relevance)
    return [
        {
            "_geo_distance": {
                "location": {"lat": near.lat, "lon": near.lon},
                "order": "asc",
                "unit": "km",
                "distance_type": "arc",
            }
        },
        {"key": {"order": "asc"}},
    ]


def search_body(query: SearchQuery, text_q: dict | None, *, facet_size: int = MAX_FACET_VALUES) -> dict:
    """The request body of one search: filters that are facets go to ``post_filter`` so
    each facet's aggregation can drop its own filter (disjunctive counts)."""
    base: list[dict] = [{"term": {"type": "product"}}]
    if query.price_min is not None or query.price_max is not None:
        price: dict[str, float] = {}
        if query.price_min is not None:
            price["gte"] = float(query.price_min)
        if query.price_max is not None:
            price["lte"] = float(query.price_max)
        base.append({"range": {"price": price}})
    if query.near:
        base.append(
            {
                "geo_distance": {
                    "distance": f"{query.near.radius_km}km",
                    "distance_type": "arc",
                    "location": {"lat": query.near.lat, "lon": query.near.lon},
                }
            }
        )
    facet_filters: dict[str, dict] = {}
    for name, values in query.filters.items():
        if not values:
            continue
        if name in FACETS:
            facet_filters[name] = _terms_filter(name, values)
        else:
            base.append(_terms_filter(name, values))
    bool_query: dict[str, Any] = {"filter": base}
    if text_q is not None:
        bool_query["must"] = [text_q]
    per_page = max(0, min(query.per_page, MAX_PER_PAGE))
    offset = query.offset
    body: dict[str, Any] = {
        "query": {"bool": bool_query},
        "from": min(offset, MAX_RESULT_WINDOW),
        "size": max(0, min(per_page, MAX_RESULT_WINDOW - offset)),
        "track_total_hits": True,
        "sort": sort_clause(query, text_q is not None),
    }
    if facet_filters:
        body["post_filter"] = {"bool": {"filter": list(facet_filters.values())}}
    aggs = {}
    for name in query.facets:
        field = FACET_FIELDS[FACETS[name]]
        others = [f for other, f in facet_filters.items() if other != name]
        inner: dict[str, Any] = {
            "values": {
                "terms": {
                    "field": field,
                    "size": facet_size,
                    "shard_size": 65_000,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                }
            }
        }
        selected = list(query.filters.get(name, ()))
        if selected:  # a ticked value stays visible with its count, even outside the top
            inner["selected"] = {"terms": {"field": field, "include": selected, "size": len(selected)}}
        aggs[name] = {"filter": {"bool": {"filter": others}}, "aggs": inner}
    if aggs:
        body["aggs"] = aggs
    return body


# ---------------------------------------------------------------------------- backend


def make_client(
    url: str,
    *,
    api_key: str | None = None,
    username: str | None = None,
    password: str | None = None,
    ca_certs: str | None = None,
    **options: Any,
):
    """An ``Elasticsearch`` client that retries whole requests on 429/502/503/504."""
    from elasticsearch import Elasticsearch, OrjsonSerializer

    kwargs: dict[str, Any] = dict(
        retry_on_status=RETRY_STATUSES,
        retry_on_timeout=True,
        max_retries=5,
        request_timeout=30,
        serializer=OrjsonSerializer(),  # a bulk request is thousands of documents to encode
    )
    if api_key:
        kwargs["api_key"] = api_key
    elif username:
        kwargs["basic_auth"] = (username, password or "")
    if ca_certs:
        kwargs["ca_certs"] = ca_certs
    kwargs.update(options)
    try:
        return Elasticsearch(url, **kwargs)
    except ValueError as exc:  # the client's own words: "Could not parse URL ..."
        raise BackendUnavailable(
            _(
                "ELASTICSEARCH_URL %(url)s n'est pas une adresse comme http://hote:9200 (%(why)s)",
                url=repr(url),
                why=exc,
            )
        ) from exc


def _transport_reason(exc: Exception) -> str:
    """One short line for a transport failure; the client's own text nests three errors deep."""
    from elasticsearch import ConnectionTimeout, SSLError

    if isinstance(exc, ConnectionTimeout):
        return _("pas de réponse à temps")
    if isinstance(exc, SSLError):
        return _("échec de la négociation TLS (une adresse https:// pour un serveur http://, ou l'inverse ?)")
    text = str(exc)
    for needle, reason in (
        ("Connection refused", N_("connexion refusée")),
        ("Name or service not known", N_("hôte inconnu")),
        ("Temporary failure in name resolution", N_("hôte inconnu")),
        ("No route to host", N_("aucune route vers l'hôte")),
    ):
        if needle in text:
            return _(reason)
    return text[:200]


class ElasticsearchBackend(SearchBackend):
    """Products and shops in one Elasticsearch index behind the alias ``prefix``."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "emplettes",
        api_key: str | None = None,
        username: str | None = None,
        password: str | None = None,
        ca_certs: str | None = None,
        readonly: bool = False,
        client: Any = None,
        shards: int = 1,
        replicas: int = 1,
        chunk_size: int = 1_000,
        max_retries: int = 5,
        initial_backoff: float = 1.0,
        max_backoff: float = 60.0,
        facet_size: int = MAX_FACET_VALUES,
        _target: str | None = None,
    ) -> None:
        if prefix != prefix.lower() or not prefix or prefix.startswith(("-", "_", "+")):
            raise ValueError(
                _("préfixe d'index %(prefix)s : en minuscules, sans -, _ ni + au début", prefix=repr(prefix))
            )
        if client is None:
            if not url:
                raise BackendUnavailable(_("ELASTICSEARCH_URL n'est pas défini"))
            client = make_client(url, api_key=api_key, username=username, password=password, ca_certs=ca_certs)
        self.client = client
        self.url = url or _("le cluster configuré")
        self.prefix = self.alias = prefix
        self.readonly = readonly
        self.shards, self.replicas = shards, replicas
        self.chunk_size = chunk_size
        self.max_retries, self.initial_backoff, self.max_backoff = max_retries, initial_backoff, max_backoff
        self.facet_size = facet_size
        self.last_rejected: list[dict[str, Any]] = []  # documents the last upsert could not write
        self._target = _target  # a rebuild writes to its own version, not through the alias
        self._ready = _target is not None
        self._towns: tuple[float, dict] | None = None
        self._unrefreshed: dict[str, set] | None = None  # in bulk(): source -> runs written since the last refresh

    # ------------------------------------------------------------------ plumbing

    def _call(self, method, **kwargs):
        from elasticsearch import ApiError, TransportError

        try:
            return method(**kwargs)
        except TransportError as exc:  # connection refused, timeouts, TLS
            raise BackendUnavailable(
                _("Elasticsearch injoignable à %(url)s : %(why)s", url=self.url, why=_transport_reason(exc))
            ) from exc
        except ApiError as exc:
            status = getattr(exc, "status_code", None)
            if status in (401, 403):
                raise BackendUnavailable(
                    _(
                        "Elasticsearch à %(url)s a refusé les identifiants (%(status)s) : vérifiez "
                        "ELASTICSEARCH_API_KEY, ou ELASTICSEARCH_USERNAME et ELASTICSEARCH_PASSWORD",
                        url=self.url,
                        status=status,
                    )
                ) from exc
            if status in RETRY_STATUSES:
                raise BackendUnavailable(
                    _(
                        "Elasticsearch à %(url)s est surchargé (%(status)s) : %(why)s",
                        url=self.url,
                        status=status,
                        why=exc.message,
                    )
                ) from exc
            raise

    @property
    def _write_index(self) -> str:
        return self._target or self.alias

    def new_index_name(self) -> str:
        return f"{self.prefix}-v{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"

    def ensure_index(self) -> None:
        """The template, and a first version behind the alias when there is none."""
        if self._ready:
            return
        self._put_template()
        exists = self._call(self.client.indices.exists_alias, name=self.alias)
        if not exists:
            from elasticsearch import BadRequestError

            try:
                self._call(
                    self.client.indices.create,
                    index=self.new_index_name(),
                    aliases={self.alias: {"is_write_index": True}},
                )
            except BadRequestError as exc:  # another process created it meanwhile
                if "already_exists" not in str(exc) and "resource_already_exists" not in str(exc):
                    raise
        self._ready = True

    def _put_template(self) -> None:
        from elasticsearch import ApiError

        try:
            self._call(
                self.client.indices.put_index_template,
                name=f"{self.prefix}-template",
                **index_template(self.prefix, shards=self.shards, replicas=self.replicas),
            )
        except ApiError as exc:  # a path in the URL, a proxy, or no Elasticsearch 7.8+ there
            raise BackendUnavailable(
                _(
                    "%(url)s n'a pas accepté le modèle d'index (%(status)s %(error)s) : ELASTICSEARCH_URL "
                    "est-il l'adresse d'un cluster Elasticsearch 8.x ou 9.x ?",
                    url=self.url,
                    status=exc.status_code,
                    error=exc.error,
                )
            ) from exc

    def _exists(self) -> bool:
        if self._ready:
            return True
        return bool(self._call(self.client.indices.exists_alias, name=self.alias))

    def _writable(self) -> None:
        self._refuse_if_readonly()
        self.ensure_index()

    def _refuse_if_readonly(self) -> None:
        if self.readonly:
            raise PermissionError(_("%(index)s : index ouvert en lecture seule", index=self.alias))

    def close(self) -> None:
        if self._target is None:
            with contextlib.suppress(Exception):  # closing is best effort
                self.client.close()

    # ------------------------------------------------------------------ writing

    def first_seen(self, ids: Iterable[str]) -> dict[str, Any]:
        """By ``mget``, which is real-time: it sees unrefreshed writes too."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        self._writable()
        found = self._call(self.client.mget, index=self._write_index, ids=wanted, source_includes=["first_seen"])
        known = {}
        for doc in found.get("docs", []):
            old = (doc.get("_source") or {}).get("first_seen") if doc.get("found") else None
            if old:
                known[doc["_id"]] = old
        return known

    def _bulk_kwargs(self) -> dict[str, Any]:
        from elasticsearch import helpers

        kwargs: dict[str, Any] = dict(
            chunk_size=self.chunk_size,
            max_retries=self.max_retries,
            initial_backoff=self.initial_backoff,
            max_backoff=self.max_backoff,
            raise_on_error=False,
            raise_on_exception=True,
            yield_ok=True,
        )
        if "retry_on_status" in inspect.signature(helpers.streaming_bulk).parameters:  # 9.x helpers
            kwargs["retry_on_status"] = (429, 503)
        return kwargs

    def upsert(self, records: Iterable[dict[str, Any]]) -> int:
        from elasticsearch import helpers

        self._writable()
        self.last_rejected = []
        written = 0
        index = self._write_index

        def actions():
            batch: dict[str, dict] = {}
            for record in records:
                batch[record["id"]] = dict(record)  # last occurrence wins, callers' dicts untouched
                if len(batch) >= self.chunk_size:
                    yield from flush(batch)
                    batch = {}
            if batch:
                yield from flush(batch)

        def flush(batch: dict[str, dict]):
            for record_id, record in batch.items():
                if self._unrefreshed is not None:
                    self._unrefreshed.setdefault(record["source_id"], set()).add(record.get("run_id"))
                yield {"_op_type": "index", "_index": index, "_id": record_id, "_source": document(record)}

        try:
            for ok, item in helpers.streaming_bulk(self.client, actions(), **self._bulk_kwargs()):
                if ok:
                    written += 1
                else:
                    detail: dict[str, Any] = next(iter(item.values()), {})
                    self.last_rejected.append(
                        {"id": detail.get("_id"), "status": detail.get("status"), "error": detail.get("error")}
                    )
        except BackendUnavailable:
            raise
        except Exception as exc:
            from elasticsearch import ApiError, TransportError

            if isinstance(exc, (TransportError, ApiError)):
                raise BackendUnavailable(_("l'indexation par lots a échoué : %(why)s", why=exc)) from exc
            raise
        if self.last_rejected:
            log.warning(
                "%s",
                ngettext(
                    "%(index)s : %(num)d document refusé, le premier : %(first)s",
                    "%(index)s : %(num)d documents refusés, le premier : %(first)s",
                    len(self.last_rejected),
                    index=index,
                    first=self.last_rejected[0],
                ),
            )
        if self._unrefreshed is None:
            self._call(self.client.indices.refresh, index=index)
        return written

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """One refresh when the block ends instead of one per upsert; a sweep that could
        delete unrefreshed documents refreshes first (delete_by_query only sees what a
        refresh made searchable)."""
        if self._unrefreshed is not None:  # nested: the outer block refreshes
            yield
            return
        self._unrefreshed = {}
        try:
            yield
            self._call(self.client.indices.refresh, index=self._write_index)
        finally:
            self._unrefreshed = None

    def delete_source(self, source_id: str, *, keep_run: str | None = None) -> int:
        self._writable()
        if self._unrefreshed and self._unrefreshed.get(source_id, set()) - {keep_run}:
            self._call(self.client.indices.refresh, index=self._write_index)
            self._unrefreshed.clear()
        query: dict[str, Any] = {"bool": {"filter": [{"term": {"source_id": source_id}}]}}
        if keep_run is not None:
            query["bool"]["must_not"] = [{"term": {"run_id": keep_run}}]
        result = self._call(
            self.client.delete_by_query, index=self._write_index, query=query, refresh=True, conflicts="proceed"
        )
        return int(result.get("deleted", 0))

    def town_points(self):
        """Cached for a minute: shops move rarely, and this costs one search."""
        import time

        now = time.monotonic()
        if self._towns is None or now - self._towns[0] > 60:
            self._towns = (now, super().town_points())
        return self._towns[1]

    # ------------------------------------------------------------------ rebuild

    def start_rebuild(self) -> ElasticsearchBackend:
        self._refuse_if_readonly()
        self._put_template()
        name = self.new_index_name()
        # Who builds it: a version outside the alias is abandoned once this process is gone.
        builder = {"host": socket.gethostname(), "pid": os.getpid()}
        self._call(self.client.indices.create, index=name, mappings={"_meta": {REBUILT_BY: builder}})
        return ElasticsearchBackend(
            self.url,
            client=self.client,
            prefix=self.prefix,
            chunk_size=self.chunk_size,
            max_retries=self.max_retries,
            initial_backoff=self.initial_backoff,
            max_backoff=self.max_backoff,
            facet_size=self.facet_size,
            _target=name,
        )

    def finish_rebuild(self, fresh: SearchBackend, before_swap: Callable[[], None] | None = None) -> None:
        """One ``_aliases`` call moves the alias (atomic), then the old versions go."""
        assert isinstance(fresh, ElasticsearchBackend)
        from elasticsearch import NotFoundError

        if before_swap is not None:
            before_swap()
        new = fresh._write_index
        self._call(self.client.indices.refresh, index=new)
        try:
            old = list(self._call(self.client.indices.get_alias, name=self.alias).keys())
        except NotFoundError:
            old = []
        actions: list[dict] = [{"remove": {"index": name, "alias": self.alias}} for name in old if name != new]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        self._call(self.client.indices.update_aliases, actions=actions)
        for name in old:
            if name != new:
                self._call(self.client.indices.delete, index=name, ignore_unavailable=True)
        self._ready = True

    def abort_rebuild(self, fresh: SearchBackend) -> None:
        assert isinstance(fresh, ElasticsearchBackend)
        self._call(self.client.indices.delete, index=fresh._write_index, ignore_unavailable=True)

    def remove_orphan_versions(self, *, grace: float = ORPHAN_GRACE_SECONDS) -> list[str]:
        """Delete the versions of this prefix a killed rebuild left outside the alias; their names.

        A rebuild fills its version apart from the alias and joins it only at the swap, so a
        rebuild killed mid-way (``kill -9``, a machine restart) leaves a full-size index
        nobody reads. Only the names :meth:`new_index_name` makes are candidates
        (``<prefix>-v`` and its 20 digits): another project's indices never match, even one
        whose prefix begins like this one. A version outside the alias may also be a rebuild
        running now, here or on another machine indexing into the same cluster: one whose
        builder (``_meta``, written by :meth:`start_rebuild`) ran on this machine and is
        gone is deleted at once; any other only once older than ``grace``.
        """
        from elasticsearch import NotFoundError

        from indexer.runs import _pid_alive

        self._refuse_if_readonly()
        ours = re.compile(rf"{re.escape(self.prefix)}-v[0-9]{{20}}")
        try:
            found = self._call(self.client.indices.get_alias, index=f"{self.prefix}-v*", expand_wildcards="all")
        except NotFoundError:
            return []
        outside = [
            n for n, entry in found.items() if ours.fullmatch(n) and self.alias not in (entry.get("aliases") or {})
        ]
        if not outside:
            return []
        found_mappings = self._call(self.client.indices.get_mapping, index=outside, ignore_unavailable=True)
        created = self._call(
            self.client.indices.get_settings, index=outside, name="index.creation_date", ignore_unavailable=True
        )
        here, now = socket.gethostname(), time.time()
        orphans = []
        for name in sorted(outside):
            builder = ((found_mappings.get(name) or {}).get("mappings", {}).get("_meta") or {}).get(REBUILT_BY) or {}
            pid = builder.get("pid")
            if builder.get("host") == here and isinstance(pid, int):
                abandoned = not _pid_alive(pid)
            else:
                settings = (created.get(name) or {}).get("settings", {}).get("index", {})
                abandoned = now - int(settings.get("creation_date", now * 1000)) / 1000 > grace
            if abandoned:
                self._call(self.client.indices.delete, index=name, ignore_unavailable=True)
                orphans.append(name)
        return orphans

    # ------------------------------------------------------------------ reading

    def get(self, record_id: str) -> dict[str, Any] | None:
        from elasticsearch import NotFoundError

        try:
            found = self._call(self.client.get, index=self.alias, id=record_id)
        except NotFoundError:
            return None
        return _record(found["_source"]) if found.get("found") else None

    def _search(self, **body: Any) -> dict:
        from elasticsearch import NotFoundError

        try:
            return self._call(self.client.search, index=self.alias, **body)
        except NotFoundError:  # no index yet (nothing loaded)
            return {"hits": {"total": {"value": 0}, "hits": []}, "aggregations": {}}

    def generation(self) -> object | None:
        """The indices behind the alias, the documents searches see and the sum of their
        sequence numbers: any write made visible raises the sum (a replaced document gets a
        higher number), any deletion lowers the count. One small aggregation, which the
        shard request cache answers until the next refresh."""
        found = self._search(
            size=0,
            track_total_hits=True,
            aggs={"seq": {"sum": {"field": "_seq_no"}}, "indices": {"terms": {"field": "_index", "size": 10}}},
        )
        aggregations = found.get("aggregations") or {}
        indices = tuple(b["key"] for b in aggregations.get("indices", {}).get("buckets", []))
        return (indices, int(found["hits"]["total"]["value"]), (aggregations.get("seq") or {}).get("value"))

    def shops(self) -> list[dict[str, Any]]:
        found = self._search(query={"term": {"type": "shop"}}, size=MAX_RESULT_WINDOW, sort=[{"key": "asc"}])
        shops = [_record(hit["_source"]) for hit in found["hits"]["hits"]]
        return sorted(shops, key=lambda s: (fold(s.get("town") or ""), fold(s["name"]), s["id"]))

    def stats(self) -> dict[str, Any]:
        found = self._search(
            query={"term": {"type": "product"}},
            size=0,
            track_total_hits=True,
            aggs={"s": {"terms": {"field": "source_id", "size": 65_000}}},  # under search.max_buckets
        )
        shops = self._search(query={"term": {"type": "shop"}}, size=0, track_total_hits=True)
        buckets = (found.get("aggregations") or {}).get("s", {}).get("buckets", [])
        return {
            "products": int(found["hits"]["total"]["value"]),
            "shops": int(shops["hits"]["total"]["value"]),
            "sources": dict(sorted((b["key"], b["doc_count"]) for b in buckets)),
        }

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        tokens = analyze(prefix, "fr_fold")
        if not tokens or limit <= 0:
            return []
        # As on tantivy: every word typed in full, and the last one as a prefix unless the
        # resident has moved on to the next word.
        whole, last = suggestion_words(prefix, tokens)
        words: list[dict] = [{"term": {"name.words": token}} for token in whole]
        if last is not None:
            words.append({"prefix": {"name.words": last}})
        found = self._search(
            query={"bool": {"filter": [{"term": {"type": "product"}}, *words]}},
            size=0,
            aggs={"n": {"terms": {"field": "name.keyword", "size": limit * 5}}},
        )
        buckets = (found.get("aggregations") or {}).get("n", {}).get("buckets", [])
        return rank_suggestions(((b["key"], b["doc_count"]) for b in buckets), prefix, limit)

    def search(self, query: SearchQuery) -> SearchResult:
        validate_query(query)
        query = resolve_place(self, query)
        clauses = plan_words(query.text)
        text_q = text_query(clauses, "strict")
        mode = "strict"
        found = self._search(**search_body(query, text_q, facet_size=self.facet_size))
        dropped: list[Clause] = []
        if text_q is not None:
            # As on tantivy: nothing with every word as typed -> forgive typos -> drop the
            # words that block. The full search is its own probe (its total counts what
            # the filters keep): one request when the words are found, as they mostly are.
            if not found["hits"]["total"]["value"] and any(c.fuzzy for c in clauses):
                mode, text_q = "fuzzy", text_query(clauses, "fuzzy")
                found = self._search(**search_body(query, text_q, facet_size=self.facet_size))
            if not found["hits"]["total"]["value"] and len(clauses) > 1:
                kept, dropped = relax_clauses(clauses, lambda subset: self._count(query, subset))
                if kept:
                    mode, text_q, clauses = "relaxed", text_query(kept, "relaxed"), kept
                    found = self._search(**search_body(query, text_q, facet_size=self.facet_size))
        hits = [_record(hit["_source"]) for hit in found["hits"]["hits"]]
        if query.near:
            for hit in hits:
                hit["distance_km"] = round(haversine_km(query.near.lat, query.near.lon, hit["lat"], hit["lon"]), 1)
        if clauses:
            for hit in hits:
                hit["name_highlight"] = highlight_segments(hit.get("name") or "", clauses, fuzzy=mode != "strict")
        aggregations = found.get("aggregations") or {}
        facets: dict[str, list[FacetValue]] = {}
        for name in query.facets:
            agg = aggregations.get(name, {})
            counts = {b["key"]: b["doc_count"] for b in agg.get("values", {}).get("buckets", [])}
            for bucket in agg.get("selected", {}).get("buckets", []):
                counts[bucket["key"]] = bucket["doc_count"]
            selected = set(query.filters.get(name, ()))
            for value in selected:
                counts.setdefault(value, 0)
            ranked = sorted(counts.items(), key=lambda vc: (-vc[1], vc[0]))
            shown = ranked[: self.facet_size]
            shown += [vc for vc in ranked[self.facet_size :] if vc[0] in selected]
            shown.sort(key=lambda vc: (-vc[1], vc[0]))
            facets[name] = [FacetValue(value, count, value in selected) for value, count in shown]
        return SearchResult(
            total=int(found["hits"]["total"]["value"]),
            hits=hits,
            facets=facets,
            page=max(query.page, 1),
            per_page=query.per_page,
            dropped=tuple(word for clause in dropped for word in clause.words),
            searched=clauses_text(clauses) if dropped else None,
        )

    def _count(self, query: SearchQuery, clauses: list[Clause]) -> int:
        """Matches of ``clauses`` (typos forgiven) with the search's filters and place."""
        full = search_body(replace(query, facets=()), text_query(clauses, "fuzzy"))
        parts = [full["query"], *([full["post_filter"]] if "post_filter" in full else [])]
        found = self._search(query={"bool": {"filter": parts}}, size=0, track_total_hits=True)
        return int(found["hits"]["total"]["value"])
