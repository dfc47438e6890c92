"""The chambers' dashboard and the shop mirror in a real headless Chromium: logging in and
out by the forms, every page under the portal's CSP without a page error, and axe-core
finding no violation at all (any impact) on each of them, on a desktop and a phone."""

from __future__ import annotations

import json

import pytest
from browser import ROOT, Tab, describe_violations, open_tab, run_axe
from chamber_portal import HOSTILE_SHOP, PASSWORD, TOURAINE_ADMIN, chamber_portal

pytestmark = pytest.mark.browser

REPORTS = ROOT / "artifacts" / "accessibility"
PAGES = {
    "sources": "/chambre/",
    "sources-filtered": "/chambre/?resultat=failed",
    "source": "/chambre/source/senteurs-loire",
    "source-errors": "/chambre/source/epicerie-berry",
    "quality": "/chambre/qualite",
    "clicks": "/chambre/clics",
    "add": "/chambre/ajouter",
    "journal": "/chambre/journal",
}


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    from portal.clicks import FILENAME, ClickCounter

    with chamber_portal(tmp_path_factory.mktemp("chambre-browser"), login_rate_limit="off") as served:
        counter = ClickCounter(served[2].data_dir / FILENAME)
        for _ in range(4):
            counter.count("senteurs-loire")
        yield served


@pytest.fixture(scope="module")
def base(portal):
    return portal[0]


def log_in(tab: Tab, email: str = TOURAINE_ADMIN, password: str = PASSWORD) -> None:
    tab.goto("/chambre/")
    assert "/chambre/connexion" in tab.page.url
    tab.page.get_by_label("Adresse électronique").fill(email)
    tab.page.get_by_label("Mot de passe").fill(password)
    tab.page.get_by_role("button", name="Se connecter").click()
    tab.page.wait_for_url("**/chambre/")


def test_logging_in_and_out_with_the_forms(browser, base):
    tab = Tab(browser, base, 1280)
    try:
        log_in(tab)
        assert tab.page.get_by_role("heading", name="Les sources de la chambre").is_visible()
        tab.page.get_by_role("button", name="Se déconnecter").click()
        tab.page.wait_for_url("**/chambre/connexion")
        assert tab.page.get_by_text("Vous êtes déconnecté.").is_visible()
        tab.goto("/chambre/qualite")
        assert "/chambre/connexion" in tab.page.url, "the session is over"
    finally:
        tab.close()


def test_a_wrong_password_is_said_without_javascript(browser, base):
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    page = context.new_page()
    try:
        page.goto(f"{base}/chambre/connexion")
        page.get_by_label("Adresse électronique").fill(TOURAINE_ADMIN)
        page.get_by_label("Mot de passe").fill("pas le bon")
        page.get_by_role("button", name="Se connecter").click()
        assert page.get_by_role("alert").inner_text() == "Adresse ou mot de passe incorrect."
    finally:
        context.close()


def test_crawl_now_works_without_javascript(browser, portal):
    base, _, config = portal
    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    tab = Tab.__new__(Tab)  # a Tab on a context without JavaScript
    tab.context, tab.page, tab.base, tab.dialogs, tab.problems = context, context.new_page(), base, [], []
    try:
        log_in(tab)
        tab.goto("/chambre/source/epicerie-berry")
        tab.page.get_by_role("button", name="Lancer une collecte").click()
        assert tab.page.get_by_role("status").inner_text().startswith("Collecte demandée")
        assert (config.crawl_requests_dir / "epicerie-berry.json").exists()
    finally:
        context.close()


def test_crawled_text_carrying_scripts_is_shown_as_text_and_never_runs(browser, base):
    """The fixture's shop name, product name and description carry <script> and onerror:
    the Tab fails on any dialog or CSP report when it closes."""
    tab = Tab(browser, base, 1280)
    try:
        log_in(tab)
        for path in ("/chambre/source/senteurs-loire", "/chambre/qualite", "/chambre/clics"):
            tab.goto(path)
            tab.page.wait_for_load_state("load")
        tab.goto("/chambre/source/senteurs-loire")
        assert tab.page.get_by_role("heading", name=HOSTILE_SHOP).count() == 1, "the name, shown as text"
        assert tab.page.locator("img[src=x]").count() == 0
    finally:
        tab.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", PAGES)
def test_no_accessibility_violation_on_the_dashboard(browser, base, name, viewport):
    tab = open_tab(browser, base, viewport, "/chambre/connexion")
    try:
        if name == "sources":  # the login page itself, once
            assert_no_violation(tab, "login", viewport)
        log_in(tab)
        tab.goto(PAGES[name])
        assert tab.no_horizontal_scroll() or viewport == "desktop", "tables scroll inside their own box"
        assert_no_violation(tab, name, viewport)
        if name == "sources" and viewport == "desktop":
            tab.screenshot("chambre-sources")
    finally:
        tab.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_no_accessibility_violation_on_the_mirror_with_a_result(browser, portal, viewport):
    from samples import SampleSites

    base, app, _ = portal
    app.config["EMPLETTES_ALLOW_PRIVATE"] = True  # the sample shop is on 127.0.1.x
    tab = open_tab(browser, base, viewport, "/ma-boutique")
    try:
        assert_no_violation(tab, "mirror", viewport)
        with SampleSites(port=0, shops=["fromagerie-du-donjon"]) as shops:
            tab.page.get_by_label("L'adresse de votre site").fill(shops.base_urls["fromagerie-du-donjon"])
            tab.page.get_by_role("button", name="Vérifier mon site").click(
                timeout=60_000
            )  # the answer waits for `emplettes check`
            tab.page.wait_for_selector("#resultat", timeout=30_000)
        assert tab.page.locator(".product").count() >= 1
        assert_no_violation(tab, "mirror-result", viewport)
        if viewport == "desktop":
            tab.screenshot("ma-boutique")
    finally:
        app.config["EMPLETTES_ALLOW_PRIVATE"] = False
        tab.close()


def assert_no_violation(tab: Tab, name: str, viewport: str) -> None:
    violations = run_axe(tab.page)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"chambre-{name}-{viewport}.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False))
    assert not violations, f"axe on {name} ({viewport}):\n{describe_violations(violations)}"


def test_adding_a_shop_in_the_browser_preview_then_confirm(browser, portal):
    """Last of the module: it adds a source to the module's registry."""
    from samples import SampleSites

    base, app, config = portal
    app.config["EMPLETTES_ALLOW_PRIVATE"] = True  # the sample shop is on 127.0.1.x
    tab = open_tab(browser, base, "desktop", "/chambre/connexion")
    try:
        log_in(tab)
        tab.goto("/chambre/ajouter")
        with SampleSites(port=0, shops=["fromagerie-du-donjon"]) as shops:
            url = shops.base_urls["fromagerie-du-donjon"]
            tab.page.get_by_label("Adresse du site de la boutique").fill(url)
            # Each click posts a form the server answers after running `emplettes sources add`
            # (detection over HTTP): the click waits for that navigation, so it gets the same
            # time as the command.
            tab.page.get_by_role("button", name="Détecter et prévisualiser").click(timeout=60_000)
            tab.page.wait_for_selector("#apercu", timeout=60_000)
            assert tab.page.locator(".product").count() >= 1
            assert_no_violation(tab, "add-preview", "desktop")
            tab.page.get_by_role("button", name="Ajouter au registre").click(timeout=60_000)
            tab.page.wait_for_url("**/chambre/", timeout=60_000)
        assert "est ajoutée au registre" in tab.page.get_by_role("status").inner_text()
        assert url in config.sources_file.read_text()
    finally:
        app.config["EMPLETTES_ALLOW_PRIVATE"] = False
        tab.close()
