"""The JSON API as documented: /api/shops, /api/shops/<id>, and an OpenAPI description that
covers every route and whose every parameter the server accepts. Real HTTP, real index."""

from __future__ import annotations

import re

import pytest
import requests
from portal_samples import portal_records
from served_portal import PORTAL_BACKENDS, served_portal

SHOPS = sorted((r for r in portal_records() if r["type"] == "shop"), key=lambda s: (s["town"], s["name"]))


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def served(request, tmp_path_factory):
    data = tmp_path_factory.mktemp("api-data")
    with served_portal(portal_records(), data, request.param, api_rate_limit="off") as (url, app, _):
        yield url, app


@pytest.fixture(scope="module")
def api(served):
    return served[0]


@pytest.fixture(scope="module")
def spec(api):
    return requests.get(f"{api}/api/openapi.json", timeout=5).json()


def get_json(url: str, status: int = 200):
    response = requests.get(url, timeout=10)
    assert response.status_code == status, (url, response.status_code, response.text[:200])
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def test_shops_are_listed_by_town_with_pages(api):
    body = get_json(f"{api}/api/shops?per_page=4")
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (6, 1, 4, 2)
    assert [s["town"] for s in body["shops"]] == ["Amboise", "Blois", "Bourges", "Orléans"]
    second = get_json(f"{api}/api/shops?per_page=4&page=2")
    assert [s["id"] for s in second["shops"]] == ["cycles-tourangeaux", "boite-a-livres"]
    assert get_json(f"{api}/api/shops?per_page=4&page=9")["shops"] == []


def test_shops_filter_by_town_and_category(api):
    assert [s["id"] for s in get_json(f"{api}/api/shops?town=tours")["shops"]] == [
        "cycles-tourangeaux",
        "boite-a-livres",
    ]
    body = get_json(f"{api}/api/shops?town=Tours&town=Blois&category=d%C3%A9coration&category=Librairie")
    assert [s["id"] for s in body["shops"]] == ["senteurs-loire", "boite-a-livres"]
    assert get_json(f"{api}/api/shops?town=Nulle-part")["total"] == 0


def test_one_shop_with_its_hours_services_and_product_count(api):
    shop = get_json(f"{api}/api/shops/boite-a-livres")
    assert shop["name"] == "La Boîte à Livres" and shop["url"] == "https://boite-a-livres.example/"
    assert shop["page_url"] == f"{api}/boutique/boite-a-livres"
    assert shop["opening_hours"] == ["Mo-Sa 09:30-19:00"] and isinstance(shop["open_now"], bool)
    assert shop["opening_status"].startswith("Ouvert maintenant" if shop["open_now"] else "Fermé")
    assert shop["services"] == ["click_and_collect"] and shop["products"] == 6
    assert (shop["lat"], shop["lon"]) == (47.3936, 0.6892)


def test_hostile_shop_urls_are_dropped_from_the_api(api):
    shop = get_json(f"{api}/api/shops/atelier-hostile")
    assert shop["url"] is None and shop["name"] == "Atelier <img src=x onerror=alert(1)>"


@pytest.mark.parametrize("query", ["page=0", "page=x", "per_page=0", "per_page=1000", "per_page=2.5"])
def test_bad_shop_list_parameters_are_a_400_naming_them(api, query):
    body = get_json(f"{api}/api/shops?{query}", 400)
    assert body["error"].startswith(query.split("=")[0] + ":")


def test_unknown_shop_is_a_json_404(api):
    assert get_json(f"{api}/api/shops/nulle-part", 404) == {"error": "shop not found"}
    get_json(f"{api}/api/shops/boite-a-livres-produit-00", 404)  # a product, not a shop


def test_suggestions_in_the_opensearch_format(api):
    response = requests.get(f"{api}/api/suggest?q=boug&format=opensearch&limit=2", timeout=5)
    assert response.headers["Content-Type"].startswith("application/x-suggestions+json")
    assert response.json() == ["boug", ["Bougie parfumée figue", "Bougie parfumée vanille"]]
    assert get_json(f"{api}/api/suggest?q=boug&format=xml", 400)["error"].startswith("format:")
    assert requests.get(f"{api}/api/suggest?q=&format=opensearch", timeout=5).json() == ["", []]


def test_search_near_a_town_works_in_the_api(api):
    body = get_json(f"{api}/api/search?near=Blois&radius=5")
    assert body["total"] and {p["town"] for p in body["results"]} == {"Blois"}
    unknown = get_json(f"{api}/api/search?near=Atlantis")  # said, with the communes that have matches
    assert unknown["notices"]["place"]["found"] is False and unknown["notices"]["place"]["name"] == "Atlantis"
    assert unknown["notices"]["place"]["towns"] and unknown["total"]


# ------------------------------------------------------------------------------ OpenAPI


def test_openapi_document_is_3_1_with_this_server(api, spec):
    assert spec["openapi"] == "3.1.0" and spec["info"]["title"]
    assert spec["servers"] == [{"url": api}]
    for path, item in spec["paths"].items():
        for operation in item.values():
            assert operation["responses"]["200"]["description"]
            for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(operation).replace("'", '"')):
                assert ref in spec["components"]["schemas"], (path, ref)


def test_openapi_document_is_valid(spec):
    from openapi_spec_validator import validate

    validate(spec)  # raises with the path of the first problem


def _validator(spec, name: str):
    from jsonschema import Draft202012Validator

    # OpenAPI 3.1 schemas are JSON Schema 2020-12; refs resolve inside the document itself.
    return Draft202012Validator({**spec, "$ref": f"#/components/schemas/{name}"})


def test_answers_validate_against_their_documented_schemas(api, spec):
    for url, name in [
        ("/api/shops", "ShopList"),
        ("/api/shops?town=Tours&per_page=1", "ShopList"),
        ("/api/shops/boite-a-livres", "Shop"),
        ("/api/shops/atelier-hostile", "Shop"),
        ("/api/search?q=bougie", "SearchResult"),
        ("/api/search?lat=47.39&lon=0.69&radius=5", "SearchResult"),
        ("/api/suggest?q=boug", "Suggestions"),
        ("/healthz", "Health"),
        ("/api/shops/nulle-part", "Error"),
        ("/api/search?page=x", "Error"),
    ]:
        response = requests.get(api + url, timeout=10)
        errors = list(_validator(spec, name).iter_errors(response.json()))
        assert not errors, (url, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:3]])


def _documented(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_every_api_route_is_described(served, spec):
    _, app = served
    routes = {_documented(r.rule) for r in app.url_map.iter_rules() if r.rule.startswith("/api/")} | {"/healthz"}
    assert routes <= set(spec["paths"]), routes - set(spec["paths"])
    assert set(spec["paths"]) <= routes | {"/healthz"}  # and nothing described that does not exist


def test_every_described_parameter_is_accepted(api, spec):
    for path, item in spec["paths"].items():
        operation = item["get"]
        path_values = {p["name"]: p["example"] for p in operation.get("parameters", []) if p["in"] == "path"}
        url = api + path.format(**path_values)
        examples = {
            p["name"]: p["example"] if isinstance(p["example"], list) else [p["example"]]
            for p in operation.get("parameters", [])
            if p["in"] == "query"
        }
        # Each one alone (a position needs both halves), then all of them at once.
        for name, values in examples.items():
            params = {name: values}
            if name in ("lat", "lon"):
                params = {"lat": examples["lat"], "lon": examples["lon"]}
            response = requests.get(url, params=params, timeout=10)
            assert response.status_code == 200, (path, name, response.text[:200])
        response = requests.get(url, params=examples, timeout=10)
        assert response.status_code == 200, (path, response.text[:200])


def test_search_parameters_match_what_the_server_reads(spec):
    from portal.query import PARAMS

    described = [p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]]
    assert described == list(PARAMS)


def test_documented_shapes_match_the_answers(api, spec):
    schemas = spec["components"]["schemas"]
    shop = get_json(f"{api}/api/shops/boite-a-livres")
    assert set(shop) == set(schemas["Shop"]["properties"])
    assert set(get_json(f"{api}/api/shops")) == set(schemas["ShopList"]["properties"])
    search = get_json(f"{api}/api/search?q=bougie")
    assert set(search) == set(schemas["SearchResult"]["properties"])
    for product in search["results"]:
        assert set(product) <= set(schemas["Product"]["properties"]), set(product) - set(
            schemas["Product"]["properties"]
        )
    assert set(get_json(f"{api}/healthz")) <= set(schemas["Health"]["properties"])
