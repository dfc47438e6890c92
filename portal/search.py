"""Search pages: the home page with its big search box, and the results page.

``/recherche`` carries everything in the query string, so a search can be bookmarked,
shared and reloaded; ``/`` with search parameters redirects there. "Près de [commune]" is
``near=Tours&radius=5``, resolved here with the backend's towns (a town typed in the box,
"livre près de Tours", is redirected to that form); a search without results asks
:mod:`portal.alternatives` for a spelling, nearby towns and broader categories.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request

from indexer.places import TOWN_RADIUS_KM, Towns, find_town, town_choices, typed_town
from indexer.search import BackendUnavailable, SearchBackend, SearchQuery, SearchResult
from portal.alternatives import zero_results_help
from portal.backend import get_backend
from portal.formatting import RADIUS_CHOICES_KM, facet_value_label, freshness, radius_label
from portal.generations import per_generation
from portal.i18n import _
from portal.presenters import search_view
from portal.query import PARAMS, PER_PAGE, Notices, is_filtered, parse_search, with_page
from portal.responses import cached
from portal.templating import search_url

log = logging.getLogger(__name__)

bp = Blueprint("search", __name__)


@bp.app_template_filter("freshness")
def freshness_filter(last_seen: object, price: bool = True) -> str:
    """``prix vérifié il y a 3 h``, against the clock of this request."""
    return freshness(last_seen, datetime.now(UTC), price=price)


bp.add_app_template_filter(radius_label, "radius")


def run_search(backend: SearchBackend, query: SearchQuery) -> tuple[SearchQuery, SearchResult]:
    """Search, clamping a page past the end to the last page."""
    result = backend.search(query)
    if result.total and query.page > result.pages:
        query = with_page(query, result.pages)
        result = backend.search(query)
    return query, result


def town_points(backend: SearchBackend) -> Towns:
    """The towns of the registered shops (cached by the backend); none when unreadable,
    so a page never fails on the town picker."""
    try:
        return backend.town_points()
    except BackendUnavailable:
        raise
    except Exception as exc:
        log.warning("town points unavailable: %s", exc)
        return {}


MAX_TOWNS_OFFERED = 6  # communes offered when a place is unknown


def shop_names(backend: SearchBackend) -> dict[str, str]:
    """Shop id -> display name, for ``shop=<id>``; read once per index generation."""
    token = backend.cache_token()
    kept = current_app.extensions.setdefault("emplettes.shop_names", {})
    if token is None or kept.get("token") != token:
        names = {
            str(shop["id"]): str(shop.get("name") or "")
            for shop in backend.shops()
            if isinstance(shop.get("id"), str) and shop.get("name")
        }
        if token is None:
            return names
        kept.update(token=token, names=names)
    return kept["names"]


def search_notes(result: SearchResult, query: SearchQuery, notices: Notices) -> dict[str, Any]:
    """What the page and the API say besides the results:

    ``words``: the words no product matched with the others, dropped (« Aucun produit pour
    « jouet en bois » ; voici les résultats pour « bois » »); ``place``: the place searched
    around, taken from the words ("miel Tours"), or a place no shop is in (``near=Paris``,
    "près de Vierzon"), with the communes that have matches; ``shops``: ``shop=`` values
    naming no shop (the page drops them)."""
    notes: dict[str, Any] = {"words": None, "place": None, "shops": list(notices.unknown_shops)}
    if result.dropped and result.searched:
        typed = query.text  # the words searched for, a place named in them set apart
        notes["words"] = {
            "typed": typed,
            "dropped": list(result.dropped),
            "searched": result.searched,
            "message": _("Aucun produit pour « %(typed)s » ; voici les résultats pour « %(searched)s »")
            % {"typed": typed, "searched": result.searched},
        }
    if notices.unknown_place:
        towns = [{"name": v.value, "count": int(v.count)} for v in result.facets.get("town", []) if v.value and v.count]
        notes["place"] = {
            "name": notices.unknown_place,
            "found": False,
            "message": _("Aucun commerce inscrit à « %(place)s » : voici les résultats de toute la région")
            % {"place": notices.unknown_place},
            "towns": towns[:MAX_TOWNS_OFFERED],
        }
    elif notices.town:
        notes["place"] = {"name": notices.town, "found": True, "message": None, "towns": []}
    return notes


_choices: list[Any] = [None, []]  # (the towns mapping, its sorted names)


def sorted_towns(towns: Towns) -> list[str]:
    """:func:`town_choices`, sorted once per towns mapping (backends cache that mapping
    until the index changes), not on every page."""
    cached_for, names = _choices
    if cached_for is not towns:
        names = town_choices(towns)
        _choices[:] = [towns, names]
    return names


def place_view(args: Mapping[str, Any], query: SearchQuery, towns: Towns) -> dict[str, Any]:
    """Where the resident searches around, for the picker and the removable chip:
    ``kind`` is ``"town"`` (``near=``), ``"me"`` (``lat``/``lon`` from "près de moi") or None."""
    town = find_town(towns, args.get("near", "")) if args.get("near") else None
    radius = query.near.radius_km if query.near else TOWN_RADIUS_KM
    kind = "town" if town is not None else ("me" if query.near is not None else None)
    radii = sorted({*RADIUS_CHOICES_KM, radius}) if kind else list(RADIUS_CHOICES_KM)
    return {
        "kind": kind,
        "town": town.name if town is not None else None,
        "radius_km": radius,
        "radii": radii,
        "towns": sorted_towns(towns),
    }


def typed_place_url(args: Mapping[str, Any], towns: Towns) -> str | None:
    """``q=livre près de Tours`` -> ``q=livre&near=Tours``: the place typed in the box
    becomes the picker's place, so the chip, the radius choice and "Distance" show it.
    ``None`` when the words name no town of the registered shops (they stay words)."""
    if args.get("near") or args.get("lat"):
        return None
    typed = typed_town(" ".join((args.get("q") or "").split()), towns)
    if typed is None:
        return None
    text, town = typed
    return search_url(q=text, near=town.name)


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
        # Computed once per index generation (portal.generations): the home page is the busiest.
        result = per_generation(
            backend, "home", lambda: backend.search(SearchQuery(per_page=1, facets=("town", "category")))
        )
        empty = result.total == 0
        overview = {
            "total": result.total,
            "towns": result.facets.get("town", [])[:12],
            "categories": result.facets.get("category", [])[:12],
            "place": place_view({}, SearchQuery(), town_points(backend)),
        }
    except BackendUnavailable:
        empty = True
    return render_template("home.html", overview=overview, empty_catalogue=empty)


@bp.get("/recherche")
def results():
    backend = get_backend()
    return cached(backend.cache_token(), lambda: results_page(backend))


def results_page(backend: SearchBackend):
    towns = town_points(backend)
    place_link = typed_place_url(request.args, towns)
    if place_link:
        return redirect(place_link, code=302)
    shops = shop_names(backend) if request.args.get("shop") else None
    query, notices = parse_search(request.args, towns=towns, shops=shops)
    query, result = run_search(backend, query)
    empty_catalogue = result.total == 0 and catalogue_is_empty(backend)
    if empty_catalogue:
        return render_template("building.html", q=query.text)
    view = search_view(result, query)
    # Chips untick what the URL ticked: a town filter that stands for "near=" (a town whose
    # shops publish no coordinates) is removed with the place chip instead.
    ticked = {(name, " ".join(value.split())) for name in query.filters for value in request.args.getlist(name)}
    return render_template(
        "results.html",
        query=query,
        view=view,
        place=place_view(request.args, query, towns),
        alternatives=zero_results_help(backend, query, towns) if result.total == 0 else None,
        notes=search_notes(result, query, notices),
        filtered=is_filtered(query),
        selected_filters=[
            (name, value, facet_value_label(name, value))
            for name, values in query.filters.items()
            for value in values
            if (name, value) in ticked
        ],
        default_per_page=PER_PAGE,
        sorts=["relevance", "price_asc", "price_desc", "newest"] + (["distance"] if query.near else []),
    )
