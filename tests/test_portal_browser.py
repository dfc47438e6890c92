"""The portal in a real headless Chromium: search, filter, paginate, hostile data,
keyboard-only use, phones, and screenshots of the main pages.

The browser machinery lives in tests/browser.py, the ``browser`` fixture in conftest.py.
Screenshots land in artifacts/screenshots/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from browser import DESKTOP, PHONE, Tab, open_tab
from portal_samples import HOSTILE_NAME, portal_records

pytestmark = pytest.mark.browser

PRODUCTS = {r["id"]: r for r in portal_records() if r["type"] == "product"}


@pytest.fixture
def desktop(browser, portal_url):
    tab = Tab(browser, portal_url, DESKTOP["width"], DESKTOP["height"])
    yield tab
    tab.close()


@pytest.fixture
def phone(browser, portal_url):
    tab = Tab(browser, portal_url, PHONE["width"], PHONE["height"])
    yield tab
    tab.close()


def test_search_filter_and_paginate(desktop):
    page = desktop.page
    desktop.goto("/")

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

    # Every product link goes out to the product page on the shop's own site (through /go/).
    for card in page.locator("li.product").all():
        name = card.locator(".product-name").inner_text()
        [record] = [r for r in PRODUCTS.values() if r["name"] == name]
        for link in (card.locator(".product-name a"), card.locator("a.button--out")):
            assert link.get_attribute("href") in {record["url"], f"/go/{record['id']}"}

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


# What the keyboard user sees: where the focus is, and whether it shows.
FOCUSED = """() => {
  const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  const fieldset = e.closest("fieldset");
  let backdrop = "rgba(0, 0, 0, 0)";  // the colour the ring is drawn on
  for (let n = e.parentElement; n && backdrop === "rgba(0, 0, 0, 0)"; n = n.parentElement) {
    backdrop = getComputedStyle(n).backgroundColor;
  }
  return {
    tag: e.tagName.toLowerCase(), type: e.getAttribute("type"), name: e.getAttribute("name"),
    value: e.value === undefined ? null : e.value, cls: String(e.className),
    text: (e.innerText || e.getAttribute("aria-label") || "").trim().slice(0, 60),
    in_main: !!e.closest("main"), facet: fieldset ? fieldset.className : null,
    ring: (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2 && s.outlineColor !== backdrop)
          || s.boxShadow !== "none",
    on_screen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0
               && r.top < window.innerHeight && r.left < window.innerWidth,
  };
}"""


def press_tab_until(tab, wanted, limit: int = 80) -> list[dict]:
    """Tab forward until ``wanted(focused)``; every stop on the way must be on screen and
    show a focus indicator. Returns the stops, the wanted one last."""
    stops = []
    for _ in range(limit):
        tab.page.keyboard.press("Tab")
        focused = tab.page.evaluate(FOCUSED)
        assert focused["tag"] != "body", f"focus fell off the page after {stops}"
        assert focused["on_screen"], f"focused element off screen: {focused}"
        assert focused["ring"], f"no visible focus indicator on {focused}"
        stops.append(focused)
        if wanted(focused):
            return stops
    raise AssertionError(f"not reached in {limit} presses of Tab: {stops}")


def test_keyboard_only_search_filter_and_paginate(desktop):
    page = desktop.page
    desktop.goto("/")
    # The home page's search box has the focus; Enter submits it.
    assert page.evaluate(FOCUSED)["name"] == "q"
    page.keyboard.type("bougie")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert desktop.params() == {"q": ["bougie"]}

    # The header: skip link, brand, search box, search button, each with a ring that shows on the blue.
    desktop.goto("/recherche?per_page=4")
    stops = press_tab_until(desktop, lambda f: f["tag"] == "button", limit=4)
    assert [f["cls"] or f["name"] or f["tag"] for f in stops] == ["skip-link", "brand", "q", "button"], stops

    desktop.goto("/recherche?per_page=4")
    # First stop: the skip link, shown on focus; it leads into the main content.
    [skip] = press_tab_until(desktop, lambda f: True, limit=1)
    assert skip["cls"] == "skip-link" and skip["text"] == "Aller au contenu"
    page.keyboard.press("Enter")
    assert urlsplit(page.url).fragment == "contenu"
    stops = press_tab_until(desktop, lambda f: True, limit=1)
    assert stops[0]["in_main"], stops

    # Through the facets to a town; Space ticks it and the filter applies.
    stops = press_tab_until(desktop, lambda f: f["facet"] == "facet facet--town" and f["value"] == "Tours")
    assert all(f["in_main"] for f in stops)
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert desktop.params() == {"town": ["Tours"], "per_page": ["4"], "sort": ["relevance"]}

    # Enter in the price field submits the filters, keeping the town.
    press_tab_until(desktop, lambda f: f["name"] == "price_max")
    page.keyboard.type("100")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert desktop.params()["town"] == ["Tours"] and desktop.params()["price_max"] == ["100"]

    # On through the sort, the products, to the next page.
    stops = press_tab_until(desktop, lambda f: f["text"].startswith("Suivant"))
    assert any(f["name"] == "sort" for f in stops), "the sort select is not reachable"
    assert any("button--out" in f["cls"] for f in stops), "no product link reached"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert desktop.params()["page"] == ["2"] and desktop.params()["town"] == ["Tours"]
    assert page.locator("li.product").count() > 0


PHONE_PAGES = [
    "/",
    "/recherche?q=bougie",
    "/recherche?town=Tours&availability=in_stock",
    "/boutique/atelier-hostile",
    "/boutique/senteurs-loire",
    "/recherche?q=zzzinconnu",
    "/boutiques",
]
# The controls a resident taps, page by page; each needs a target of at least 44 × 44 CSS px
# (links inside a sentence are exempt, as in WCAG 2.5.5).
TAP_TARGETS = {
    "/": ["#q", ".search-form--hero button", ".near-form input", ".near-form select", ".near-form button", "a.chip"],
    "/recherche?per_page=4": [
        "header input[type=search]",
        "header button[type=submit]",
        "#filtres-panneau > summary",
        "#filtres-panneau fieldset.facet--town label",
        "#filtres input[name=price_min]",
        "#filtres .filters-actions button",
        "select[name=sort]",
        "a.button--out",
        ".pagination a",
    ],
}


def small_tap_targets(page, selectors: list[str]) -> list[str]:
    small = []
    for selector in selectors:
        boxes = [b for b in (e.bounding_box() for e in page.locator(selector).all()) if b]
        assert boxes, f"nothing matches {selector}"
        small += [
            f"{selector}: {b['width']:.0f}×{b['height']:.0f}" for b in boxes if b["width"] < 44 or b["height"] < 44
        ]
    return small


def test_phone_layout(phone):
    page = phone.page
    for path in PHONE_PAGES:
        phone.goto(path)
        assert phone.no_horizontal_scroll(), path

    phone.goto("/")
    small = small_tap_targets(page, TAP_TARGETS["/"])

    # On a phone the filters fold away behind one tap, and can be used.
    phone.goto("/recherche?per_page=4")
    facet = page.locator("fieldset.facet--town")
    assert not facet.is_visible()
    page.locator("#filtres-panneau > summary").click()
    assert facet.is_visible()
    small += small_tap_targets(page, TAP_TARGETS["/recherche?per_page=4"])
    assert not small, f"tap targets under 44 px: {small}"
    with page.expect_navigation():
        facet.locator("label", has_text="Tours").click()
    assert phone.params() == {"town": ["Tours"], "per_page": ["4"], "sort": ["relevance"]}
    assert set(page.locator("li.product .town").all_inner_texts()) == {"Tours"}
    assert phone.no_horizontal_scroll()


SCREENSHOT_PAGES = {
    "home": "/",
    "results": "/recherche?q=bougie",
    "results-filtered": "/recherche?town=Tours&availability=in_stock",
    "shop": "/boutique/senteurs-loire",
    "directory": "/boutiques",
}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", SCREENSHOT_PAGES)
def test_screenshot_of_main_page(browser, portal_url, name, viewport):
    tab = open_tab(browser, portal_url, viewport, SCREENSHOT_PAGES[name])
    try:
        assert tab.screenshot(f"{name}-{viewport}").stat().st_size > 1000
    finally:
        tab.close()


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
