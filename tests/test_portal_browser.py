"""The portal in a real headless Chromium: search, filter, paginate, hostile data, phones.

Uses the system Chromium (the Playwright browser download does not work everywhere);
skipped with the reason when none is found. Set CHROMIUM_PATH to point at another build.
Screenshots land in artifacts/screenshots/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import shutil
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import HOSTILE_NAME, portal_records

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PRODUCTS = {r["id"]: r for r in portal_records() if r["type"] == "product"}


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        pytest.skip("no Chromium binary found (looked at $CHROMIUM_PATH, chromium, chromium-browser)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _placeholder(route):
    """Shop images live on the shops' hosts: answer with a tinted square, offline."""
    hue = zlib.crc32(route.request.url.encode()) % 360
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
        f'<rect width="400" height="400" fill="hsl({hue},45%,84%)"/>'
        f'<circle cx="200" cy="200" r="90" fill="hsl({hue},40%,64%)"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


class Tab:
    """A page that records dialogs, CSP violations and page errors, and never leaves
    127.0.0.1 (shop images are stubbed, anything else is refused)."""

    def __init__(self, browser, base: str, width: int, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base = base
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._on_console)
        self.page.route("**/*", self._route)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base):
            route.continue_()
        elif route.request.resource_type == "image":
            _placeholder(route)
        else:
            route.abort()

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, path
        return response

    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def no_horizontal_scroll(self) -> bool:
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def close(self) -> None:
        assert not self.dialogs, f"a dialog fired: {self.dialogs}"
        assert not self.problems, self.problems
        self.context.close()


@pytest.fixture
def desktop(browser, portal_url):
    tab = Tab(browser, portal_url, 1280)
    yield tab
    tab.close()


@pytest.fixture
def phone(browser, portal_url):
    tab = Tab(browser, portal_url, 375, 800)
    yield tab
    tab.close()


def test_search_filter_and_paginate(desktop):
    page = desktop.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    desktop.goto("/")
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

    # Search from the home page.
    page.get_by_label("Rechercher un produit").fill("bougie")
    with page.expect_navigation():
        page.get_by_label("Rechercher un produit").press("Enter")
    assert urlsplit(page.url).path == "/recherche" and desktop.params() == {"q": ["bougie"]}
    assert page.get_by_role("heading", level=1).inner_text() == "Résultats pour « bougie »"

    # The hostile product name is plain text, visible in full; no dialog fired.
    hostile = page.locator(".product-name", has_text='<script>alert("xss")</script>')
    assert hostile.count() == 1 and hostile.is_visible()
    assert hostile.inner_text() == HOSTILE_NAME
    page.screenshot(path=str(SCREENSHOTS / "results.png"), full_page=True)

    # Every product link goes out to the product page on the shop's own site.
    for card in page.locator("li.product").all():
        name = card.locator(".product-name").inner_text()
        [record] = [r for r in PRODUCTS.values() if r["name"] == name]
        assert card.locator(".product-name a").get_attribute("href") == record["url"]
        assert card.locator("a.button--out").get_attribute("href") == record["url"]

    # Tick a town: the filter applies at once (app.js submits the form).
    desktop.goto("/recherche?per_page=4")
    assert page.locator("#filtres-panneau").get_attribute("open") is not None  # sidebar on wide screens
    with page.expect_navigation():
        page.locator("fieldset.facet--town label", has_text="Tours").locator("input").check()
    assert desktop.params() == {"town": ["Tours"], "per_page": ["4"], "sort": ["relevance"]}
    towns = page.locator("li.product .town").all_inner_texts()
    assert towns and set(towns) == {"Tours"}
    assert page.locator("fieldset.facet--town input[value=Tours]").is_checked()

    # Page 2 keeps the town.
    first_page = page.locator(".product-name").all_inner_texts()
    with page.expect_navigation():
        page.get_by_role("link", name="Suivant").click()
    assert desktop.params() == {"town": ["Tours"], "per_page": ["4"], "sort": ["relevance"], "page": ["2"]}
    assert page.locator(".pagination [aria-current=page]").inner_text() == "2"
    second_page = page.locator(".product-name").all_inner_texts()
    assert second_page and not set(first_page) & set(second_page)
    assert set(page.locator("li.product .town").all_inner_texts()) == {"Tours"}

    # Sorting from the select (auto-submitted) keeps the filter and goes back to page 1.
    with page.expect_navigation():
        page.locator("select[name=sort]").select_option("price_desc")
    assert desktop.params() == {"town": ["Tours"], "per_page": ["4"], "sort": ["price_desc"]}
    assert page.locator(".price").first.inner_text() == "1 299,00 €"


def test_suggestions_are_inserted_as_text(desktop):
    desktop.goto("/")
    desktop.page.get_by_label("Rechercher un produit").press_sequentially("boug", delay=20)
    # (a locator, not wait_for_function: the CSP forbids the eval that one relies on)
    desktop.page.locator("#suggestions option").first.wait_for(state="attached")
    values = desktop.page.eval_on_selector_all("#suggestions option", "options => options.map(o => o.value)")
    assert "Bougie parfumée vanille" in values and HOSTILE_NAME in values


def test_phone_layout_has_no_horizontal_scroll(phone):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, shot in [("/", "home-phone.png"), ("/recherche?q=bougie", "results-phone.png"),
                       ("/recherche?town=Tours&availability=in_stock", None),
                       ("/boutique/atelier-hostile", None), ("/recherche?q=zzzinconnu", None)]:
        phone.goto(path)
        assert phone.no_horizontal_scroll(), path
        if shot:
            phone.page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
    # On a phone the filters fold away behind one tap.
    phone.goto("/recherche?q=bougie")
    facet = phone.page.locator("fieldset.facet--town")
    assert not facet.is_visible()
    phone.page.locator("#filtres-panneau summary").click()
    assert facet.is_visible()


def test_near_me_button(browser, portal_url):
    tab = Tab(browser, portal_url, 1280)
    tab.context.grant_permissions(["geolocation"], origin=portal_url)
    tab.context.set_geolocation({"latitude": 47.3941, "longitude": 0.6848})  # Tours, place Jean-Jaurès
    try:
        tab.goto("/recherche")
        with tab.page.expect_navigation():
            tab.page.get_by_role("button", name="Produits près de chez moi").click()
        params = tab.params()
        assert params["lat"] == ["47.394"] and params["lon"] == ["0.685"] and "sort" not in params
        towns = tab.page.locator("li.product .town").all_inner_texts()
        assert towns and set(towns) == {"Tours"}  # Amboise is 25 km away, beyond the 20 km default
        distances = tab.page.locator("li.product .distance").all_inner_texts()
        assert distances and all(d.endswith(" km") for d in distances)
        assert tab.page.locator("select[name=sort] option[selected]").get_attribute("value") == "distance"
    finally:
        tab.close()
