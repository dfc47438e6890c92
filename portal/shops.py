"""Shop pages: who the shop is, where to find it, and its products on the portal."""

from __future__ import annotations


from flask import Blueprint, abort, render_template, request

from indexer.search import SearchQuery
from portal.backend import get_backend
from portal.presenters import search_view, shop_view
from portal.query import query_from_args
from portal.search import run_search

bp = Blueprint("shops", __name__)

PRODUCTS_PER_PAGE = 12
SHOP_FROM_PRODUCT = {"id": "shop_id", "name": "shop_name", "url": "shop_url", "town": "town",
                     "postcode": "postcode", "services": "services", "categories": "categories"}


@bp.get("/boutique/<path:shop_id>")
def shop(shop_id: str):
    backend = get_backend()
    record = backend.get(shop_id)
    if record is not None and record.get("type", "shop") != "shop":
        abort(404)
    page = query_from_args(request.args, per_page=PRODUCTS_PER_PAGE).page
    query = SearchQuery(
        filters={"shop_id": (shop_id,)}, sort="newest", page=page, per_page=PRODUCTS_PER_PAGE, facets=()
    )
    query, result = run_search(backend, query)
    if record is None:
        # Products crawled before their shop record: describe the shop from a product.
        if not result.hits:
            abort(404)
        hit = result.hits[0]
        record = {key: hit.get(src) for key, src in SHOP_FROM_PRODUCT.items()}
    view = search_view(result, query)
    info = shop_view(record)
    return render_template("shop.html", shop=info, view=view, query=query)
