"""The map without a tile server, in headless Chromium under the real CSP: the region's
départements and communes bundled with the portal, the shops' markers and popups on them,
and not one request leaving the portal (any CSP violation fails the test, see ``Tab``)."""

from __future__ import annotations

import pytest
from browser import DESKTOP, PHONE, Tab, assert_popup_shows_the_hostile_shop_as_text
from portal_samples import extra_records, portal_records

pytestmark = pytest.mark.browser

BORDER = (0x7D, 0x6B, 0x52)  # the départements' outline colour in map.js


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(data_dir=tmp_path_factory.mktemp("browser-map"), api_rate_limit="off")
    assert not config.map_tile_url
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records() + extra_records())
    with serving_in_thread(create_app(config)) as url:
        yield url


def open_tab(browser, url: str, size: dict, path: str, drawn: str = "map-canvas--region") -> tuple[Tab, list[str]]:
    """A tab on ``path``, once its map is drawn (``drawn``: the canvas's class then), and the
    addresses it asked for outside the portal."""
    tab = Tab(browser, url, size["width"], size["height"])
    elsewhere: list[str] = []
    tab.page.on("request", lambda r: None if r.url.startswith(url) else elsewhere.append(r.url))
    if drawn == "map-canvas--no-region":
        tab.page.route("**/static/geo/**", lambda route: route.fulfill(status=404, body="absent"))
    tab.goto(path)
    tab.page.locator(f".map--ready .{drawn}").wait_for()
    return tab, elsewhere


def border_pixels(page) -> int:
    """Pixels of the région pane's canvas in the départements' outline colour."""
    return page.evaluate(
        """([r, g, b]) => {
            const canvas = document.querySelector('.leaflet-region-pane canvas');
            if (!canvas) return -1;
            const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let k = 0; k < data.length; k += 4) {
                if (Math.abs(data[k] - r) < 12 && Math.abs(data[k + 1] - g) < 12 && Math.abs(data[k + 2] - b) < 12
                    && data[k + 3] > 200) n++;
            }
            return n;
        }""",
        list(BORDER),
    )


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_directory_draws_the_region_and_every_shop_with_no_tile_server(browser, site, size):
    tab, elsewhere = open_tab(browser, site, size, "/boutiques")
    try:
        page = tab.page
        canvas = page.locator(".map-canvas")
        assert canvas.get_attribute("data-departements") == "6"
        assert int(canvas.get_attribute("data-communes")) > 1700
        assert border_pixels(page) > 300  # the départements' outline is on screen
        assert page.locator(".leaflet-interactive").count() == 7  # a marker per shop with coordinates
        assert page.locator(".leaflet-tile").count() == 0
        assert "Licence Ouverte" in page.locator(".map-attribution").inner_text()
        tab.screenshot(f"directory-map-offline-{size['width']}")
        assert elsewhere == []
    finally:
        tab.close()


def test_a_shops_marker_opens_its_popup_on_the_bundled_map(browser, site):
    tab, elsewhere = open_tab(browser, site, DESKTOP, "/boutique/atelier-hostile")
    try:
        page = tab.page
        assert page.locator(".leaflet-interactive").count() == 1
        assert_popup_shows_the_hostile_shop_as_text(page)
        assert border_pixels(page) > 0
        html = page.content()
        assert [u for u in elsewhere if u not in html] == []  # only the products' own images, as listed
    finally:
        tab.close()


def test_the_lists_stay_when_the_contours_cannot_load(browser, site):
    tab, _ = open_tab(browser, site, DESKTOP, "/boutiques", drawn="map-canvas--no-region")
    try:
        page = tab.page
        assert page.locator(".leaflet-interactive").count() == 7
        assert page.locator("li.shop-card").count() == 8  # every shop, with or without coordinates
    finally:
        tab.close()


def served_with(tmp_path_factory, offline_map_file: str):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(data_dir=tmp_path_factory.mktemp("browser-map-setting"), offline_map_file=offline_map_file)
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records() + extra_records())
    return serving_in_thread(create_app(config))


def test_a_regions_own_contours_file_is_drawn_under_the_csp(browser, tmp_path_factory):
    import json
    from pathlib import Path

    bundled = json.loads((Path(__file__).parent.parent / "portal/static/geo/centre-val-de-loire.json").read_text())
    bundled["departements"] = [d for d in bundled["departements"] if d["code"] == "37"]
    bundled["communes"] = [c for c in bundled["communes"] if c["code"].startswith("37")]
    path = tmp_path_factory.mktemp("region") / "indre-et-loire.json"
    path.write_text(json.dumps(bundled), encoding="utf-8")
    with served_with(tmp_path_factory, str(path)) as url:
        tab, elsewhere = open_tab(browser, url, DESKTOP, "/boutiques")
        try:
            canvas = tab.page.locator(".map-canvas")
            assert canvas.get_attribute("data-geo").startswith("/carte/contours.")
            assert canvas.get_attribute("data-departements") == "1"
            assert canvas.get_attribute("data-communes") == str(len(bundled["communes"]))
            assert border_pixels(tab.page) > 0
            assert tab.page.locator(".leaflet-interactive").count() == 7
            assert elsewhere == []
        finally:
            tab.close()


def test_off_draws_the_markers_on_a_plain_background(browser, tmp_path_factory):
    with served_with(tmp_path_factory, "off") as url:
        tab, elsewhere = open_tab(browser, url, DESKTOP, "/boutiques", drawn="map-canvas--no-region")
        try:
            assert tab.page.locator(".leaflet-interactive").count() == 7
            assert border_pixels(tab.page) == -1  # no contours pane was ever drawn
            assert tab.page.locator(".map-attribution").count() == 0
            assert elsewhere == []
        finally:
            tab.close()
