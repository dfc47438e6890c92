"""How others find the portal: sitemap, robots.txt, OpenSearch and OpenAPI descriptions.

Absolute URLs (sitemap, canonical links, OpenSearch templates) start with ``PUBLIC_URL``
when it is set, so a portal behind a proxy announces its public address; otherwise with
the host the request came to.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for

from indexer.records import AVAILABILITIES, SERVICES
from indexer.search import SORTS
from portal.assets import asset_url
from portal.backend import get_backend, get_config
from portal.generations import all_shops, per_generation
from portal.query import (
    API_MAX_PER_PAGE,
    MAX_RADIUS_KM,
    MAX_SHOPS_PER_PAGE,
    MAX_SUGGESTIONS,
    MAX_TEXT,
    PARAMS,
    PER_PAGE,
    SHOPS_PER_PAGE,
)

bp = Blueprint("discovery", __name__)

CACHE_SHORT = "public, max-age=3600"
CACHE_PRIVATE = "private, max-age=3600"  # absolute URLs from the request's Host: no shared cache


def discovery_cache() -> str:
    """Shared caches may keep these answers only when their URLs come from ``PUBLIC_URL``."""
    return CACHE_SHORT if (get_config().public_url or "").strip() else CACHE_PRIVATE


def public_base() -> str:
    """``https://emplettes.region.fr`` (no trailing slash): ``PUBLIC_URL``, else this request's."""
    configured = (get_config().public_url or "").strip().rstrip("/")
    if configured.startswith(("http://", "https://")):
        return configured
    return (request.host_url.rstrip("/") + request.script_root).rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """``url_for`` with the public base: ``https://emplettes.region.fr/boutique/cave``."""
    return public_base() + _relative(url_for(endpoint, **values))


@bp.get("/favicon.ico")
def favicon():
    """Crawlers and old browsers ask for ``/favicon.ico`` without reading the page's link."""
    return redirect(asset_url("favicon.svg"), code=301)


@bp.get("/robots.txt")
def robots():
    body = "\n".join(
        [
            "User-agent: *",
            "Disallow: /go/",
            "Disallow: /api/",
            "",
            f"Sitemap: {absolute_url('discovery.sitemap')}",
            "",
        ]
    )
    return Response(body, mimetype="text/plain", headers={"Cache-Control": discovery_cache()})


def _relative(path: str) -> str:
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root) else path


def sitemap_entries(backend) -> list[tuple[str, str | None]]:
    """(shop page path, lastmod) of every shop: read once per index generation; the host
    is added per request (it may differ), so what is kept stays one list."""

    def build() -> list[tuple[str, str | None]]:
        entries = []
        for shop in all_shops(backend):
            shop_id = shop.get("id")
            if isinstance(shop_id, str) and shop_id:
                last_seen = shop.get("last_seen")
                lastmod = last_seen[:10] if isinstance(last_seen, str) and len(last_seen) >= 10 else None
                entries.append((_relative(url_for("shops.shop", shop_id=shop_id)), lastmod))
        return entries

    return per_generation(backend, "sitemap", build)


@bp.get("/sitemap.xml")
def sitemap():
    """Home, directory and every shop page; product pages live on the shops' own sites."""
    base = public_base()
    entries = [(absolute_url("search.home"), None), (absolute_url("shops.directory"), None)]
    entries += [(base + path, lastmod) for path, lastmod in sitemap_entries(get_backend())]
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for loc, lastmod in entries:
        lines.append(
            f"<url><loc>{escape(loc)}</loc>" + (f"<lastmod>{escape(lastmod)}</lastmod>" if lastmod else "") + "</url>"
        )
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", mimetype="application/xml", headers={"Cache-Control": discovery_cache()})


@bp.get("/opensearch.xml")
def opensearch():
    """Lets browsers add the portal as a search engine, with suggestions as one types."""
    body = render_template(
        "opensearch.xml",
        search_url=absolute_url("search.results"),
        suggest_url=absolute_url("api.api_suggest"),
        home_url=absolute_url("search.home"),
        self_url=absolute_url("discovery.opensearch"),
    )
    return Response(
        body, mimetype="application/opensearchdescription+xml", headers={"Cache-Control": discovery_cache()}
    )


# ------------------------------------------------------------------------------ OpenAPI


def _param(name: str, description: str, schema: dict, example, *, where: str = "query", required: bool = False) -> dict:
    param = {"name": name, "in": where, "description": description, "schema": schema, "example": example}
    if required:
        param["required"] = True
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _search_parameters() -> list[dict]:
    """One entry per parameter :func:`portal.query.query_from_args` reads (``PARAMS``)."""
    many = "Repeatable; values of one parameter are OR'ed, different parameters AND'ed."
    known = {
        "q": (
            "Words to search for (French stemming, accents and typos forgiven).",
            {"type": "string", "maxLength": MAX_TEXT},
            "bougie vanille",
        ),
        "town": (f"Town of the shop. {many}", {"type": "array", "items": {"type": "string"}}, ["Tours"]),
        "category": (
            f"Category of the shop (registry categories). {many}",
            {"type": "array", "items": {"type": "string"}},
            ["Librairie"],
        ),
        "availability": (
            f"Availability of the offer. {many}",
            {"type": "array", "items": {"type": "string", "enum": list(AVAILABILITIES)}},
            ["in_stock"],
        ),
        "shop": (f"Shop name. {many}", {"type": "array", "items": {"type": "string"}}, ["La Boîte à Livres"]),
        "services": (
            f"Services of the shop. {many}",
            {"type": "array", "items": {"type": "string", "enum": list(SERVICES)}},
            ["click_and_collect"],
        ),
        "price_min": ("Lowest price in euros (`12.50` or `12,50`).", {"type": "string"}, "10"),
        "price_max": ("Highest price in euros.", {"type": "string"}, "50.00"),
        "sort": (
            "Order of the results; `distance` needs `lat`/`lon` or `near`.",
            {"type": "string", "enum": list(SORTS), "default": "relevance"},
            "price_asc",
        ),
        "page": ("Page number, from 1.", {"type": "integer", "minimum": 1, "default": 1}, 1),
        "per_page": (
            "Results per page.",
            {"type": "integer", "minimum": 1, "maximum": API_MAX_PER_PAGE, "default": PER_PAGE},
            20,
        ),
        "lat": (
            "Latitude of the resident (with `lon`): adds `distance_km` and a radius filter.",
            {"type": "number", "minimum": -90, "maximum": 90},
            47.39,
        ),
        "lon": ("Longitude of the resident (with `lat`).", {"type": "number", "minimum": -180, "maximum": 180}, 0.69),
        "radius": (
            "Radius in km around `lat`/`lon` or `near`.",
            {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM},
            5,
        ),
        "near": (
            "A town of the registered shops: search around it (`radius` km, 10 by default).",
            {"type": "string"},
            "Tours",
        ),
    }
    params = []
    for name in PARAMS:
        description, schema, example = known.get(
            name, ("See the results page's parameter of that name.", {"type": "string"}, "")
        )
        params.append(_param(name, description, schema, example))
    return params


def _json(schema_name: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}},
    }


_ERRORS = {
    "400": _json("Error", "A parameter was refused; `error` names it."),
    "429": _json("Error", "Too many requests from this client: wait `Retry-After` seconds."),
    "503": _json("Error", "The search index cannot be read right now."),
}

_NULLABLE_STRING = {"type": ["string", "null"]}

_SCHEMAS: dict = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
    "Product": {
        "type": "object",
        "description": "One product offer of one shop. `url` is the product page on the shop's own site; "
        "links shown to residents should go through `/go/{id}`, which counts the click.",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "price": {
                **_NULLABLE_STRING,
                "description": "Decimal string, e.g. `12.50`; null when the shop gives none.",
            },
            "price_display": {
                "type": "string",
                "description": "French display, e.g. `12,50 €` or `à partir de 9,90 €`.",
            },
            "price_high": {**_NULLABLE_STRING, "description": "Highest price when the product has several offers."},
            "currency": _NULLABLE_STRING,
            "availability": {"type": "string", "enum": ["in_stock", "out_of_stock", "preorder", "unknown"]},
            "availability_label": {"type": "string"},
            "url": {**_NULLABLE_STRING, "format": "uri"},
            "image": {**_NULLABLE_STRING, "format": "uri", "description": "The image URL the shop declared."},
            "image_small": {
                **_NULLABLE_STRING,
                "description": "Path of the portal's copy of the image, fitting 320×320 (WebP); "
                "null when none was stored.",
            },
            "image_large": {**_NULLABLE_STRING, "description": "The same, fitting 640×640."},
            "description": {"type": "string"},
            "brand": _NULLABLE_STRING,
            "category": _NULLABLE_STRING,
            "shop": {
                "type": "object",
                "properties": {
                    "id": _NULLABLE_STRING,
                    "name": {"type": "string"},
                    "url": {**_NULLABLE_STRING, "format": "uri"},
                },
            },
            "town": _NULLABLE_STRING,
            "postcode": _NULLABLE_STRING,
            "distance_km": {"type": ["number", "null"]},
            "services": {"type": "array", "items": {"type": "string"}},
            "last_seen": {
                **_NULLABLE_STRING,
                "format": "date-time",
                "description": "When the crawler last saw the offer (UTC).",
            },
        },
    },
    "FacetValue": {
        "type": "object",
        "properties": {
            "value": {"type": "string"},
            "count": {"type": "integer"},
            "selected": {"type": "boolean"},
            "label": {"type": "string"},
        },
    },
    "SearchResult": {
        "type": "object",
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Product"}},
            "facets": {
                "type": "object",
                "description": "Facet name -> values with counts.",
                "additionalProperties": {"type": "array", "items": {"$ref": "#/components/schemas/FacetValue"}},
            },
            "notices": {
                "type": "object",
                "description": "What the search could not do as asked, to tell the resident (docs/search.md): "
                "`words`: words no product matched with the others, dropped (`typed`, `dropped`, `searched`, "
                "`message`); `place`: the town the words named (`found` true), or a place with no shop "
                "(`found` false, `message`, `towns`: communes with matches and their counts); "
                "`shops`: shop values that name no shop; `alternatives` (only without results): "
                "`spelling` (a correction that finds products, or null), `towns` (nearest first, "
                "with `distance_km` and `count`), `categories`.",
                "properties": {
                    "words": {"type": ["object", "null"]},
                    "place": {"type": ["object", "null"]},
                    "shops": {"type": "array", "items": {"type": "string"}},
                    "alternatives": {"type": ["object", "null"]},
                },
            },
        },
    },
    "Suggestions": {"type": "object", "properties": {"suggestions": {"type": "array", "items": {"type": "string"}}}},
    "Shop": {
        "type": "object",
        "required": [
            "id",
            "name",
            "url",
            "page_url",
            "address",
            "postcode",
            "town",
            "lat",
            "lon",
            "telephone",
            "opening_hours",
            "open_now",
            "opening_status",
            "categories",
            "services",
            "description",
            "products",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "url": {**_NULLABLE_STRING, "format": "uri", "description": "The shop's own site."},
            "page_url": {"type": "string", "format": "uri", "description": "The shop's page on this portal."},
            "address": _NULLABLE_STRING,
            "postcode": _NULLABLE_STRING,
            "town": _NULLABLE_STRING,
            "lat": {"type": ["number", "null"]},
            "lon": {"type": ["number", "null"]},
            "telephone": _NULLABLE_STRING,
            "opening_hours": {
                "type": "array",
                "items": {"type": "string"},
                "description": "schema.org `openingHours` strings, e.g. `Mo-Fr 09:00-19:00` (Paris time).",
            },
            "open_now": {"type": ["boolean", "null"], "description": "Null when the hours cannot be read."},
            "opening_status": {**_NULLABLE_STRING, "description": "e.g. `Ouvert maintenant · ferme à 19:00`."},
            "categories": {"type": "array", "items": {"type": "string"}},
            "services": {
                "type": "array",
                "items": {"type": "string", "enum": ["click_and_collect", "delivery", "gift_vouchers"]},
            },
            "description": _NULLABLE_STRING,
            "products": {"type": ["integer", "null"], "description": "Products of the shop in the catalogue."},
        },
    },
    "ShopList": {
        "type": "object",
        "required": ["total", "page", "per_page", "pages", "shops"],
        "additionalProperties": False,
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "shops": {"type": "array", "items": {"$ref": "#/components/schemas/Shop"}},
        },
    },
    "Health": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "backend": {"type": "string"},
            "products": {"type": "integer"},
            "shops": {"type": "integer"},
        },
    },
}


def openapi_document() -> dict:
    """The OpenAPI 3.1 description of the JSON API, with this portal's address as server."""
    many = "Repeatable (OR'ed); compared without case or accents."
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Nos emplettes — API",
            "version": "1",
            "description": "Search the products of the region's local shops, and the shops themselves. "
            "JSON, UTF-8, no authentication; rate-limited per client (HTTP 429 with Retry-After).",
        },
        "servers": [{"url": public_base()}],
        "paths": {
            "/api/search": {
                "get": {
                    "summary": "Search product offers",
                    "operationId": "search",
                    "parameters": _search_parameters(),
                    "responses": {"200": _json("SearchResult", "One page of results with facet counts."), **_ERRORS},
                }
            },
            "/api/suggest": {
                "get": {
                    "summary": "Complete what a resident types",
                    "operationId": "suggest",
                    "parameters": [
                        _param("q", "The beginning of a product name.", {"type": "string", "maxLength": 100}, "boug"),
                        _param(
                            "limit",
                            "How many suggestions.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": 8},
                            5,
                        ),
                        _param(
                            "format",
                            "`opensearch` answers `[q, [suggestions]]` (OpenSearch suggestions, "
                            "`application/x-suggestions+json`) for browsers.",
                            {"type": "string", "enum": ["json", "opensearch"], "default": "json"},
                            "json",
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "Suggestions, best first.",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Suggestions"}},
                                "application/x-suggestions+json": {
                                    "schema": {
                                        "type": "array",
                                        "prefixItems": [
                                            {"type": "string"},
                                            {"type": "array", "items": {"type": "string"}},
                                        ],
                                    }
                                },
                            },
                        },
                        **_ERRORS,
                    },
                }
            },
            "/api/shops": {
                "get": {
                    "summary": "List the shops, by town then name",
                    "operationId": "listShops",
                    "parameters": [
                        _param(
                            "town",
                            f"Town of the shop. {many}",
                            {"type": "array", "items": {"type": "string"}},
                            ["Tours"],
                        ),
                        _param(
                            "category",
                            f"Category of the shop. {many}",
                            {"type": "array", "items": {"type": "string"}},
                            ["Librairie"],
                        ),
                        _param("page", "Page number, from 1.", {"type": "integer", "minimum": 1, "default": 1}, 1),
                        _param(
                            "per_page",
                            "Shops per page.",
                            {"type": "integer", "minimum": 1, "maximum": MAX_SHOPS_PER_PAGE, "default": SHOPS_PER_PAGE},
                            50,
                        ),
                    ],
                    "responses": {"200": _json("ShopList", "One page of shops."), **_ERRORS},
                }
            },
            "/api/shops/{shop_id}": {
                "get": {
                    "summary": "One shop",
                    "operationId": "getShop",
                    "parameters": [
                        _param(
                            "shop_id",
                            "The shop's id, as in `/api/shops`.",
                            {"type": "string"},
                            "boite-a-livres",
                            where="path",
                            required=True,
                        )
                    ],
                    "responses": {
                        "200": _json("Shop", "The shop."),
                        "404": _json("Error", "No such shop."),
                        "429": _ERRORS["429"],
                        "503": _ERRORS["503"],
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description",
                    "operationId": "openapi",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "summary": "Can the portal read its index?",
                    "operationId": "health",
                    "responses": {
                        "200": _json("Health", "The index can be read."),
                        "503": _json("Health", "The index cannot be read."),
                    },
                }
            },
        },
        "components": {"schemas": _SCHEMAS},
    }


@bp.get("/api/openapi.json")
def openapi():
    response = jsonify(openapi_document())
    response.headers["Cache-Control"] = discovery_cache()
    response.headers["Access-Control-Allow-Origin"] = "*"  # readable by API explorers on other sites
    return response
