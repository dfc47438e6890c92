"""The results page in a real headless Chromium: near a town, chips, zero results, cards.

Runs against the portal of tests/test_portal_results.py (the shared records plus a cheese
shop 2.8 km from Tours's centre with "à partir de" prices checked hours ago).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from browser import Tab
from portal_samples import CENTRAL_TOURS, FROMAGERIE, RESULTS_PRODUCTS

pytestmark = pytest.mark.browser

BY_ID = {r["id"]: r for r in RESULTS_PRODUCTS}


@pytest.fixture
def desktop(browser, results_url):
    tab = Tab(browser, results_url, 1280)
    yield tab
    tab.close()


def card_ids(tab) -> set[str]:
    hrefs = tab.page.locator("li.product .product-name a").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    return {h.removeprefix("/go/") for h in hrefs}


def test_near_a_town_1_km_then_25_km(desktop):
    page = desktop.page
    desktop.goto("/")
    near = page.locator("form.near-form")
    near.get_by_label("Commune").select_option("Tours")
    near.get_by_label("Rayon").select_option("1")
    with page.expect_navigation():
        near.get_by_role("button", name="Voir les produits").click()
    assert urlsplit(page.url).path == "/recherche"
    assert urlsplit(page.url).query == "near=Tours&radius=1"  # no empty q: app.js leaves it out
    assert card_ids(desktop) == CENTRAL_TOURS
    distances = page.locator("li.product .distance").all_inner_texts()
    assert distances and all(float(d.split()[0].replace(",", ".")) <= 1 for d in distances)
    assert page.locator("select[name=sort]").input_value() == "relevance"  # the browse order: in stock first
    desktop.screenshot("results-near-town")

    # Widen to 25 km from the sidebar: Amboise (22 km) comes in, and the cheese shop (2.8 km).
    sidebar = page.locator("form#filtres")
    sidebar.get_by_label("Rayon").select_option("25")
    with page.expect_navigation():
        sidebar.get_by_role("button", name="Voir autour").click()
    params = desktop.params()
    assert params["near"] == ["Tours"] and params["radius"] == ["25"]
    towns = set(page.locator("li.product .town").all_inner_texts())
    assert towns == {"Tours", "Amboise"}
    assert f"{FROMAGERIE}-sainte-maure" in card_ids(desktop) or page.locator(".pagination").count()

    # The place chip takes the place away, and only it.
    with page.expect_navigation():
        page.locator(".chips--active a", has_text="Près de Tours").click()
    assert "near" not in desktop.params() and "radius" not in desktop.params()
    assert page.locator("li.product .distance").count() == 0


def test_facet_chip_and_pagination_keep_every_parameter(desktop):
    page = desktop.page
    desktop.goto("/recherche?near=Tours&radius=25&per_page=3")
    with page.expect_navigation():
        page.locator("fieldset.facet--availability label", has_text="En stock").locator("input").check()
    params = desktop.params()
    assert params["availability"] == ["in_stock"] and params["near"] == ["Tours"] and params["radius"] == ["25"]
    assert params["per_page"] == ["3"]
    assert set(page.locator("li.product .badge").all_inner_texts()) == {"En stock"}

    with page.expect_navigation():
        page.get_by_role("link", name="Suivant").click()
    assert desktop.params() == {**params, "page": ["2"]}
    assert page.locator(".pagination [aria-current=page]").inner_text() == "2"

    with page.expect_navigation():
        page.locator(".chips--active a", has_text="Disponibilité").click()
    after = desktop.params()
    assert "availability" not in after and "page" not in after
    assert after["near"] == ["Tours"] and after["radius"] == ["25"] and after["per_page"] == ["3"]


def test_card_a_partir_de_freshness_and_go_link(desktop):
    page = desktop.page
    desktop.goto("/recherche?q=sainte-maure")
    card = page.locator("li.product").first
    assert card.locator(".price").inner_text() == "à partir de 6,50 €"
    assert card.locator(".freshness").inner_text() == "prix vérifié il y a 3 h"
    assert card.locator(".services li").all_inner_texts() == [
        "Retrait en boutique",
        "Livraison",
        "Chèques cadeaux locaux acceptés",
    ]
    link = card.locator(".product-name a")
    assert link.get_attribute("href") == f"/go/{FROMAGERIE}-sainte-maure"
    assert set(link.get_attribute("rel").split()) == {"nofollow", "noopener"}
    # Following it leaves for the shop's own page (refused by the tab: it never leaves 127.0.0.1).
    with page.expect_request(f"https://{FROMAGERIE}.example/produits/sainte-maure"):
        link.click()


def test_zero_results_suggestions_lead_to_results(desktop):
    page = desktop.page
    desktop.goto("/recherche?q=bojgiie")
    assert "Aucun produit ne correspond à « bojgiie »" in page.locator(".empty-state").inner_text()
    desktop.screenshot("results-zero")
    with page.expect_navigation():
        page.locator(".did-you-mean a").click()
    assert desktop.params() == {"q": ["bougie"]}
    assert page.locator("li.product").count() >= 3

    desktop.goto("/recherche?q=bougie&near=Tours&radius=1")
    with page.expect_navigation():
        page.locator(".alternatives--towns a", has_text="Blois").click()
    assert desktop.params() == {"q": ["bougie"], "town": ["Blois"]}
    assert set(page.locator("li.product .town").all_inner_texts()) == {"Blois"}


# app.js's fetch calls to /api/suggest, counted in the page as they are made: when the
# page's clock has run, the count is final (the network events reach the test later).
COUNT_SUGGEST_FETCHES = """
window.suggestFetches = 0;
const fetchFirst = window.fetch;
window.fetch = function (url, options) {
  if (String(url).includes("/api/suggest")) window.suggestFetches += 1;
  return fetchFirst.call(this, url, options);
};
"""


def test_suggestions_wait_for_a_pause_and_never_pile_up(desktop):
    """The debounce runs on the page's fake clock, driven by the test: keys 100 ms apart
    (faster than the pause the script waits for), then a pause of a second."""
    page = desktop.page
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/suggest" in r.url else None)
    page.add_init_script(COUNT_SUGGEST_FETCHES)
    page.clock.install()
    desktop.goto("/")
    page.clock.pause_at(page.evaluate("Date.now()") + 1_000)  # from here, time moves only when told
    box = page.get_by_label("Rechercher un produit")

    def fetches() -> int:
        return page.evaluate("window.suggestFetches")

    def pause(ms: int) -> None:
        page.clock.run_for(ms)

    for key in "bougie parf":
        box.press_sequentially(key)
        pause(100)
    assert fetches() == 0
    with page.expect_request("**/api/suggest*"):
        pause(1_000)
    page.locator("#suggestions option").first.wait_for(state="attached")
    pause(1_000)
    assert fetches() == 1
    assert len(asked) == 1 and parse_qs(urlsplit(asked[0]).query)["q"] == ["bougie parf"]
    values = page.locator("#suggestions option").evaluate_all("options => options.map(o => o.value)")
    assert values and all(v.lower().startswith("bougie parf") for v in values)

    # Typing on after a pause asks again; going back to a prefix already asked does not.
    with page.expect_response("**/api/suggest*"):
        box.press_sequentially("u")
        pause(1_000)
    box.press("Backspace")
    pause(1_000)
    assert fetches() == 2
    assert len(asked) == 2


def test_without_javascript_the_town_picker_still_works(browser, results_url):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    context.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(results_url) else route.abort()
    )
    try:
        page = context.new_page()
        page.goto(results_url + "/recherche?q=livre")
        sidebar = page.locator("form#filtres")
        page.locator("#filtres-panneau summary").click()  # folded: only the script unfolds it on wide screens
        assert page.get_by_role("button", name="Produits près de chez moi").is_hidden()  # needs the script
        sidebar.get_by_label("Commune").select_option("Tours")
        sidebar.get_by_label("Rayon").select_option("5")
        with page.expect_navigation():
            sidebar.get_by_role("button", name="Voir autour").click()
        params = parse_qs(urlsplit(page.url).query)
        assert params["near"] == ["Tours"] and params["radius"] == ["5"] and params["q"] == ["livre"]
        assert set(page.locator("li.product .town").all_inner_texts()) == {"Tours"}
    finally:
        context.close()
