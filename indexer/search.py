"""The façade the portal and the command line use to reach the configured search backend.

from indexer.search import open_backend, SearchQuery
backend = open_backend(readonly=True)      # SEARCH_BACKEND, DATA_DIR from the environment
result = backend.search(SearchQuery(text="théière", filters={"town": ("Laval",)}))
"""

from __future__ import annotations

from config import Config
from config.i18n import _
from indexer.backends.base import (  # re-exported: callers need only this module
    FACETS,
    SORTS,
    BackendUnavailable,
    FacetValue,
    Near,
    SearchBackend,
    SearchQuery,
    SearchResult,
)
from indexer.backends.common import MAX_RESULT_WINDOW

__all__ = [
    "FACETS",
    "MAX_RESULT_WINDOW",
    "SORTS",
    "BackendUnavailable",
    "FacetValue",
    "Near",
    "SearchBackend",
    "SearchQuery",
    "SearchResult",
    "open_backend",
]

BACKENDS = ("tantivy", "elasticsearch")


def open_backend(config: Config | None = None, *, readonly: bool = False) -> SearchBackend:
    """The backend named by ``SEARCH_BACKEND``.

    ``readonly=True`` (the portal) never takes the index's writer lock, so a loader in
    another process can write meanwhile; readers see its commits on their next search.
    A reader keeps the facet counts of its last ``SEARCH_CACHE_SIZE`` searches: popular
    searches repeat, and counting facets over a million products is most of a search's cost.
    """
    config = config or Config()
    name = (config.search_backend or "tantivy").strip().lower()
    if name == "tantivy":
        from indexer.backends.tantivy import TantivyBackend

        return TantivyBackend(
            config.index_dir,
            readonly=readonly,
            cache_size=config.search_cache_size,
            search_threads=config.search_threads,
        )
    if name == "elasticsearch":
        if not config.elasticsearch_url:
            raise BackendUnavailable(_("SEARCH_BACKEND=elasticsearch demande ELASTICSEARCH_URL"))
        from indexer.backends.elasticsearch_backend import ElasticsearchBackend

        return ElasticsearchBackend(
            config.elasticsearch_url,
            prefix=config.elasticsearch_index or "emplettes",
            api_key=config.elasticsearch_api_key or None,
            username=config.elasticsearch_username or None,
            password=config.elasticsearch_password or None,
            ca_certs=config.elasticsearch_ca_certs or None,
            readonly=readonly,
        )
    raise ValueError(
        _(
            "SEARCH_BACKEND=%(value)s : valeur attendue parmi %(known)s",
            value=repr(config.search_backend),
            known=", ".join(BACKENDS),
        )
    )
