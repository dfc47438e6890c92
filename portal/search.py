"""Search pages: the home page with its big search box, and the results page.

``/recherche`` carries everything in the query string, so a search can be bookmarked,
shared and reloaded; ``/`` with search parameters redirects there.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request

from indexer.search import BackendUnavailable, SearchBackend, SearchQuery, SearchResult
from portal.backend import get_backend
from portal.presenters import search_view
from portal.formatting import facet_value_label
from portal.query import PARAMS, PER_PAGE, is_filtered, query_from_args, with_page
from portal.templating import search_url

bp = Blueprint("search", __name__)


def run_search(backend: SearchBackend, query: SearchQuery) -> tuple[SearchQuery, SearchResult]:
    """Search, clamping a page past the end to the last page."""
    result = backend.search(query)
    if result.total and query.page > result.pages:
        query = with_page(query, result.pages)
        result = backend.search(query)
    return query, result


def catalogue_is_empty(backend: SearchBackend) -> bool:
    try:
        return int(backend.stats().get("products") or 0) == 0
    except BackendUnavailable:
        raise
    except Exception:  # stats are a nicety; never fail a page on them
        return False


@bp.get("/")
def home():
    if any(request.args.get(name) for name in PARAMS):
        return redirect(search_url(), code=302)
    overview = None
    empty = False
    try:
        backend = get_backend()
        # One empty search gives the counts and the towns/categories to browse by.
        result = backend.search(SearchQuery(per_page=1, facets=("town", "category")))
        empty = result.total == 0
        overview = {
            "total": result.total,
            "towns": result.facets.get("town", [])[:12],
            "categories": result.facets.get("category", [])[:12],
        }
    except BackendUnavailable:
        empty = True
    return render_template("home.html", overview=overview, empty_catalogue=empty)


@bp.get("/recherche")
def results():
    query = query_from_args(request.args)
    backend = get_backend()
    query, result = run_search(backend, query)
    empty_catalogue = result.total == 0 and catalogue_is_empty(backend)
    if empty_catalogue:
        return render_template("building.html", q=query.text)
    view = search_view(result, query)
    return render_template(
        "results.html",
        query=query,
        view=view,
        filtered=is_filtered(query),
        selected_filters=[
            (name, value, facet_value_label(name, value)) for name, values in query.filters.items() for value in values
        ],
        default_per_page=PER_PAGE,
        sorts=["relevance", "price_asc", "price_desc", "newest"] + (["distance"] if query.near else []),
    )
