"""Shop pages, the directory and maps in a real headless Chromium, under the real CSP.

Map tiles come from a configured URL that never leaves the machine: stubbed as images by
:class:`Tab`, or refused to check that the list still works when tiles cannot load. Any CSP
violation, page error or dialog fails the test (``Tab.close``).
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import DESKTOP, PHONE, Tab, assert_popup_shows_the_hostile_shop_as_text, describe_violations, run_axe
from portal_samples import extra_records, portal_records

from indexer.records import ProductRecord, ShopRecord

pytestmark = pytest.mark.browser

TILES = "https://tiles.invalid/{z}/{x}/{y}.png"


class _ShopSite(BaseHTTPRequestHandler):
    """A shop's own site on 127.0.0.1: where /go/ must land."""

    def do_GET(self):
        body = b"<!doctype html><title>Vase</title><h1>Page produit de la boutique</h1>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def shop_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def local_shop(shop_site: str) -> list[dict]:
    """A shop whose site is the stub above (an IP host: /go/ allows exactly that host)."""
    shop = ShopRecord(
        id="poterie-locale",
        source_id="poterie-locale",
        run_id="r1",
        name="Poterie Locale",
        url=shop_site + "/",
        town="Chinon",
        categories=["Décoration"],
    )
    product = ProductRecord(
        id="poterie-locale-vase",
        source_id="poterie-locale",
        run_id="r1",
        shop_id="poterie-locale",
        shop_name="Poterie Locale",
        shop_url=shop_site + "/",
        town="Chinon",
        name="Vase en grès",
        price="35",
        currency="EUR",
        url=shop_site + "/produits/vase",
    )
    return [shop.model_dump(mode="json"), {**product.model_dump(mode="json"), "source_url": shop_site + "/"}]


@pytest.fixture(scope="module")
def site(tmp_path_factory, shop_site):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(
        data_dir=tmp_path_factory.mktemp("browser-shops"),
        map_tile_url=TILES,
        map_attribution="© les contributeurs OpenStreetMap",
        api_rate_limit="off",
    )
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records() + extra_records() + local_shop(shop_site))
    with serving_in_thread(create_app(config)) as url:
        yield url, config


@pytest.fixture
def desktop(browser, site):
    tab = Tab(browser, site[0], DESKTOP["width"], DESKTOP["height"])
    yield tab
    tab.close()


def test_shop_page_shows_hours_and_a_map_drawn_from_data(desktop):
    page = desktop.page
    desktop.goto("/boutique/grande-librairie")
    assert page.locator(".opening-status").inner_text() == "Ouvert maintenant · 24 h/24"
    assert page.locator("table.hours tr").count() == 7
    assert page.get_by_role("link", name="02 47 11 22 33").count() == 0  # shown as written:
    assert page.locator('a[href="tel:+33247112233"]').inner_text() == "+33 2 47 11 22 33"
    # The map: Leaflet drew it, its marker and French zoom buttons, no inline script needed.
    page.locator(".map.map--ready .leaflet-container").wait_for()
    assert page.locator(".leaflet-interactive").count() == 1
    assert page.locator(".leaflet-control-zoom-in").get_attribute("aria-label") == "Zoom avant"
    page.locator(".leaflet-tile-loaded").first.wait_for()  # tiles were stubbed images
    desktop.screenshot("shop-map")

    desktop.goto("/boutique/boite-a-livres")
    status = page.locator(".opening-status").inner_text()
    # Depends on the hour the test runs: open, closed until 09:30 today, or until another day.
    assert re.match(r"^(Ouvert maintenant · ferme à 19:00|Fermé · ouvre (\S+ )?à 09:30)$", status), status


def test_map_popup_shows_a_hostile_name_as_text(desktop):
    page = desktop.page
    desktop.goto("/boutique/atelier-hostile")
    assert_popup_shows_the_hostile_shop_as_text(page)


def test_search_within_a_shop_and_page_through_its_results(desktop):
    page = desktop.page
    desktop.goto("/boutique/grande-librairie")
    page.get_by_label("Chercher dans cette boutique").fill("livre")
    with page.expect_navigation():
        page.get_by_label("Chercher dans cette boutique").press("Enter")
    assert urlsplit(page.url).path == "/boutique/grande-librairie" and desktop.params() == {"q": ["livre"]}
    assert page.get_by_role("heading", name="30 produits pour « livre »").is_visible()
    with page.expect_navigation():
        page.get_by_role("link", name="Suivant").click()
    assert desktop.params() == {"q": ["livre"], "page": ["2"]}
    assert page.get_by_label("Chercher dans cette boutique").input_value() == "livre"


def test_a_product_link_goes_through_go_to_the_shop_site(desktop, site, shop_site):
    from portal.clicks import FILENAME, read_clicks

    _, config = site
    page = desktop.page
    before = sum(c.count for c in read_clicks(config.data_dir / FILENAME, shop_id="poterie-locale"))
    desktop.goto("/boutique/poterie-locale")
    link = page.locator("li.product .product-name a").first
    assert link.get_attribute("href") == "/go/poterie-locale-vase"
    with page.expect_navigation(url=shop_site + "/produits/vase"):
        link.click()
    assert page.locator("h1").inner_text() == "Page produit de la boutique"
    after = sum(c.count for c in read_clicks(config.data_dir / FILENAME, shop_id="poterie-locale"))
    assert after == before + 1


def test_directory_still_lists_and_filters_when_tiles_cannot_load(desktop):
    page = desktop.page
    page.route("https://tiles.invalid/**", lambda route: route.abort())
    desktop.goto("/boutiques")
    cards = page.locator("li.shop-card")
    assert cards.count() == 9 and cards.first.is_visible()
    page.locator(".map--ready .leaflet-container").wait_for()  # the map frame is there, without tiles
    assert page.locator(".leaflet-interactive").count() == 7  # every shop with coordinates
    assert page.locator(".leaflet-tile-loaded").count() == 0
    desktop.screenshot("directory-map-no-tiles")
    with page.expect_navigation():
        page.locator(".directory-filters a.chip", has_text="Tours").click()
    assert desktop.params() == {"town": ["Tours"]}
    assert page.locator("li.shop-card").count() == 3
    assert page.locator(".leaflet-interactive").count() == 3
    with page.expect_navigation():
        page.locator("li.shop-card a", has_text="La Grande Librairie").click()
    assert urlsplit(page.url).path == "/boutique/grande-librairie"


def test_directory_and_shop_page_work_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    try:
        page = context.new_page()
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site[0]) else route.abort())
        page.goto(site[0] + "/boutiques")
        assert not page.locator(".map").is_visible()  # no map without script: the list is the page
        page.locator(".directory-filters a.chip", has_text="Librairie").click()
        page.wait_for_url(re.compile(r"category=Librairie"))
        assert page.locator("li.shop-card").count() == 2
        page.goto(site[0] + "/boutique/grande-librairie")
        page.get_by_label("Chercher dans cette boutique").fill("numéro 7")
        page.get_by_role("button", name="Chercher", exact=True).click()
        page.wait_for_url(re.compile(r"q=num"))
        assert parse_qs(urlsplit(page.url).query) == {"q": ["numéro 7"]}
        assert "Livre de poche numéro 7" in page.locator("li.product").first.inner_text()
    finally:
        context.close()


def test_phone_shop_page_and_directory_fit_the_screen(browser, site):
    tab = Tab(browser, site[0], PHONE["width"], PHONE["height"])
    try:
        for path in ("/boutique/grande-librairie", "/boutique/atelier-hostile", "/boutiques", "/boutiques?town=Tours"):
            tab.goto(path)
            tab.page.locator(".map--ready .leaflet-container").wait_for()
            assert tab.no_horizontal_scroll(), path
        tab.goto("/boutique/grande-librairie")
        tab.screenshot("shop-map-phone")
    finally:
        tab.close()


@pytest.mark.parametrize("path", ["/boutique/grande-librairie", "/boutiques", "/boutiques?town=Tours"])
def test_pages_with_maps_have_no_serious_accessibility_violation(desktop, path):
    desktop.goto(path)
    desktop.page.locator(".map--ready .leaflet-container").wait_for()
    serious = [v for v in run_axe(desktop.page) if v["impact"] in ("serious", "critical")]
    assert not serious, describe_violations(serious)
