"""The chambers' dashboard over HTTP: the real portal, a real index loaded by the real
indexer from run files, accounts made by the real ``emplettes users add``.

Security: pages behind the login, another chamber's source, brute force, CSRF, session
fixation, logout, cookies, and crawled names and descriptions carrying scripts.
"""

from __future__ import annotations

import csv
import html
import io
import json
import os
import re
from datetime import UTC, datetime

import pytest
import requests
from backend_catalogue import ES_TEST_PREFIX
from chamber_portal import (
    HOSTILE_DESCRIPTION,
    HOSTILE_PRODUCT,
    HOSTILE_SHOP,
    LOIRET_ADMIN,
    PASSWORD,
    TOURAINE_ADMIN,
    TOURAINE_EDITOR,
    chamber_portal,
    csrf_token,
    login,
    post_form,
)
from served_portal import PORTAL_BACKENDS

PAGES = [
    "/chambre/",
    "/chambre/source/senteurs-loire",
    "/chambre/qualite",
    "/chambre/clics",
    "/chambre/clics.csv",
    "/chambre/ajouter",
    "/chambre/journal",
]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    with chamber_portal(
        tmp_path_factory.mktemp("chambre"), login_rate_limit="off"
    ) as served:  # every test logs in from 127.0.0.1
        yield served


@pytest.fixture(scope="module")
def base(portal):
    return portal[0]


@pytest.fixture(scope="module")
def admin(base):
    return login(base, TOURAINE_ADMIN)


def visible_text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


# -- behind the login ------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_dashboard_page_asked_without_a_session_redirects_to_the_login(base, path):
    answer = requests.get(base + path, allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/chambre/connexion?suivant=")


def test_after_logging_in_the_user_lands_on_the_page_first_asked(base):
    session = requests.Session()
    page = session.get(f"{base}/chambre/qualite", timeout=30)  # redirected to the login form
    assert "Connexion" in page.text
    answer = session.post(
        page.url,
        data={"csrf_token": csrf_token(page.text), "email": TOURAINE_EDITOR, "password": PASSWORD},
        timeout=30,
    )
    assert answer.url == f"{base}/chambre/qualite"


def test_a_login_never_redirects_off_the_dashboard(base):
    session = requests.Session()
    page = session.get(f"{base}/chambre/connexion?suivant=//evil.example/", timeout=30)
    answer = session.post(
        page.url,
        data={"csrf_token": csrf_token(page.text), "email": TOURAINE_EDITOR, "password": PASSWORD},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.headers["Location"] == "/chambre/"


# -- one chamber's sources ---------------------------------------------------------------------


def test_sources_at_a_glance_show_the_chambers_sources_problems_first(admin, base):
    page = admin.get(f"{base}/chambre/", timeout=30).text
    text = visible_text(page)
    assert "Épicerie du Berry" in text and "Senteurs de Loire" in text
    assert "Cycles d'Orléans" not in text, "another chamber's source"
    assert text.index("Épicerie du Berry") < text.index("Senteurs de Loire"), "the failed run comes first"
    assert "échouée" in text and "erreur du serveur (500) × 7" in text and "délai dépassé × 2" in text
    assert "2 page(s) refusée(s) par robots.txt" in text
    assert "dans 3 h" in text, "the next run, from the scheduler's table"
    assert "2 sources, 2 à surveiller" in text


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("commune=Tours", "Senteurs de Loire", "Épicerie du Berry"),
        ("type=woocommerce", "Épicerie du Berry", "Senteurs de Loire"),
        ("resultat=ok", "Senteurs de Loire", "Épicerie du Berry"),
    ],
)
def test_sources_filter_by_town_kind_and_outcome(admin, base, query, shown, hidden):
    table = admin.get(f"{base}/chambre/?{query}", timeout=30).text
    table = visible_text(table[table.index("<table") :])
    assert shown in table and hidden not in table


def test_another_chambers_source_is_a_404_like_a_missing_one(admin, base):
    other = admin.get(f"{base}/chambre/source/cycles-orleans", timeout=30)
    missing = admin.get(f"{base}/chambre/source/nulle-part", timeout=30)
    assert other.status_code == missing.status_code == 404
    assert "Cycles" not in other.text
    crawl = post_form(admin, base, "/chambre/source/senteurs-loire", "/chambre/source/cycles-orleans/collecter")
    assert crawl.status_code == 404


def test_the_other_chamber_sees_only_its_own(base):
    session = login(base, LOIRET_ADMIN)
    text = visible_text(session.get(f"{base}/chambre/", timeout=30).text)
    assert "Cycles d'Orléans" in text and "Senteurs de Loire" not in text
    assert session.get(f"{base}/chambre/source/senteurs-loire", timeout=30).status_code == 404


def test_one_source_shows_its_runs_errors_with_addresses_and_products(admin, base):
    page = admin.get(f"{base}/chambre/source/epicerie-berry", timeout=30).text
    text = visible_text(page)
    assert "Historique des collectes" in text and "échouée" in text
    assert "https://berry.example/p/miel" in text, "the failing addresses"
    assert "Lentilles vertes" in text and "Miel de Sologne" in text, "its products as residents see them"
    assert "Lancer une collecte" in text


def test_crawled_names_and_descriptions_carrying_scripts_are_shown_escaped(admin, base):
    for path in ("/chambre/source/senteurs-loire", "/chambre/qualite", "/chambre/source/epicerie-berry"):
        page = admin.get(base + path, timeout=30).text
        assert "<script>alert" not in page and "<img src=x" not in page, path
    page = admin.get(f"{base}/chambre/source/senteurs-loire", timeout=30).text
    assert "Senteurs &lt;script&gt;" in page  # the shop's name, shown as text
    assert "Bougie &lt;script&gt;" in page or "Bougie \\u003cscript" in page
    text = visible_text(page)
    assert HOSTILE_SHOP in text and HOSTILE_PRODUCT in text and HOSTILE_DESCRIPTION in text, "shown, as text"


def test_the_json_ld_block_is_built_from_the_shops_own_product_and_stays_inert(admin, base):
    page = admin.get(f"{base}/chambre/source/senteurs-loire", timeout=30).text
    block = re.search(r'<pre class="chambre-code"[^>]*><code>(.*?)</code></pre>', page, re.S)
    assert block, "a JSON-LD block to add"
    shown = block.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&#34;", '"').replace("&amp;", "&")
    body = shown.split("\n", 1)[1].rsplit("\n", 1)[0]
    data = json.loads(body)
    assert data["@type"] == "Product" and data["offers"]["price"] == "12.50"
    assert data["gtin13"].startswith("À COMPLÉTER"), "what is missing is asked for"
    assert "</script>" not in body, "no script end inside the block, once pasted"


def test_data_quality_puts_the_shops_with_most_to_gain_first(admin, base):
    table = admin.get(f"{base}/chambre/qualite", timeout=30).text
    text = visible_text(table[table.index("<table") :])
    assert text.index("Épicerie du Berry") < text.index("Senteurs"), "no image, brand nor description"
    assert "Cycles" not in text, "another chamber's shop is never named"
    assert "Votre chambre 5" in text and "Toute la région 6" in text, "products counted: chamber, region"


# -- crawl now -------------------------------------------------------------------------------


def test_crawl_now_leaves_a_request_for_the_scheduler_and_a_journal_line(portal, admin):
    base, _, config = portal
    answer = post_form(admin, base, "/chambre/source/senteurs-loire", "/chambre/source/senteurs-loire/collecter")
    assert answer.status_code == 302
    request_file = config.crawl_requests_dir / "senteurs-loire.json"
    assert json.loads(request_file.read_text())["by"] == TOURAINE_ADMIN
    assert "collecte demandée" in visible_text(admin.get(f"{base}/chambre/", timeout=30).text)
    journal = visible_text(admin.get(f"{base}/chambre/journal", timeout=30).text)
    assert "collecte demandée senteurs-loire" in journal and TOURAINE_ADMIN in journal


def test_a_form_without_its_csrf_token_is_refused(portal, admin):
    base, _, config = portal
    answer = admin.post(f"{base}/chambre/source/epicerie-berry/collecter", timeout=30, allow_redirects=False)
    assert answer.status_code == 400 and "Formulaire expiré" in answer.text
    forged = admin.post(f"{base}/chambre/source/epicerie-berry/collecter", data={"csrf_token": "forged"}, timeout=30)
    assert forged.status_code == 400
    assert not (config.crawl_requests_dir / "epicerie-berry.json").exists()


def test_another_sessions_csrf_token_is_refused(base, admin):
    stranger = requests.Session()
    token = csrf_token(stranger.get(f"{base}/chambre/connexion", timeout=30).text)
    answer = admin.post(f"{base}/chambre/source/epicerie-berry/collecter", data={"csrf_token": token}, timeout=30)
    assert answer.status_code == 400


# -- clicks ----------------------------------------------------------------------------------


def test_clicks_are_charted_in_svg_and_exported_for_the_chambers_shops_only(portal, admin):
    from portal.clicks import FILENAME, ClickCounter, today

    base, _, config = portal
    counter = ClickCounter(config.data_dir / FILENAME)
    for _ in range(3):
        counter.count("senteurs-loire")
    counter.count("cycles-orleans")  # the other chamber's
    day = today(datetime.now(UTC))
    page = admin.get(f"{base}/chambre/clics?jours=7", timeout=30).text
    assert "<svg" in page and "<rect" in page and "3 clics" in visible_text(page)
    exported = admin.get(f"{base}/chambre/clics.csv?jours=7", timeout=30)
    assert exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["jour", "boutique", "nom", "clics"]
    assert [r[1] for r in rows[1:]] == ["senteurs-loire"]
    assert rows[1][0] in (day, datetime.now(UTC).date().isoformat()) and rows[1][3] == "3"


# -- adding a shop ---------------------------------------------------------------------------


def test_an_editor_cannot_add_a_shop(base):
    session = login(base, TOURAINE_EDITOR)
    assert session.get(f"{base}/chambre/ajouter", timeout=30).status_code == 403


def test_adding_a_shop_previews_then_appends_it_with_the_chamber(portal, admin):
    from samples import SampleSites

    base, app, config = portal
    before = config.sources_file.read_text()
    app.config["EMPLETTES_ALLOW_PRIVATE"] = True  # the sample shop is on 127.0.1.x: a test-only switch
    try:
        with SampleSites(port=0, shops=["fromagerie-du-donjon"]) as shops:
            url = shops.base_urls["fromagerie-du-donjon"]
            preview = post_form(admin, base, "/chambre/ajouter", "/chambre/ajouter", {"url": url})
            assert preview.status_code == 200, preview.text
            assert "Aperçu" in preview.text and "chamber: cci-touraine" not in preview.text  # the default's
            assert preview.text.count('class="product"') >= 1, "its products, as residents will see them"
            assert config.sources_file.read_text() == before, "a preview writes nothing"
            confirm = admin.post(
                f"{base}/chambre/ajouter",
                data={"csrf_token": csrf_token(preview.text), "url": url, "confirm": "oui"},
                timeout=60,
                allow_redirects=False,
            )
    finally:
        app.config["EMPLETTES_ALLOW_PRIVATE"] = False
    assert confirm.status_code == 302, confirm.text
    after = config.sources_file.read_text()
    assert after.startswith(before), "the chamber's comments and order are kept"
    assert url in after[len(before) :]
    listing = visible_text(admin.get(f"{base}/chambre/", timeout=30).text)
    assert "jamais collectée" in listing
    assert "boutique ajoutée" in visible_text(admin.get(f"{base}/chambre/journal", timeout=30).text)


def test_adding_a_private_address_is_refused_with_the_reason(admin, base, portal):
    answer = post_form(admin, base, "/chambre/ajouter", "/chambre/ajouter", {"url": "http://127.0.0.1:9/"})
    assert answer.status_code == 200
    (alert,) = re.findall(r'<div class="chambre-error" role="alert">(.*?)</div>', answer.text, re.S)
    assert "n'a pas pu être ajoutée" in alert and "127.0.0.1" in alert, "the guard's reason names the address"


# -- logins ----------------------------------------------------------------------------------


def _attempt(session: requests.Session, base: str, email: str, password: str) -> requests.Response:
    page = session.get(f"{base}/chambre/connexion", timeout=30)
    return session.post(
        f"{base}/chambre/connexion",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        timeout=30,
        allow_redirects=False,
    )


def test_wrong_password_and_unknown_account_get_the_same_answer(tmp_path):
    with chamber_portal(tmp_path, login_rate_limit="off") as (base, _, _):
        session = requests.Session()
        wrong = _attempt(session, base, TOURAINE_ADMIN, "not the password")
        unknown = _attempt(session, base, "nobody@example.fr", "not the password")
        journal = login(base, TOURAINE_ADMIN).get(f"{base}/chambre/journal", timeout=30).text
    assert wrong.status_code == unknown.status_code == 401
    assert visible_text(wrong.text) == visible_text(unknown.text).replace("nobody@example.fr", TOURAINE_ADMIN)
    assert "connexion refusée" in visible_text(journal), "the chamber sees attempts on its accounts"


def test_brute_force_on_one_account_is_stopped_even_with_the_right_password_after(tmp_path):
    with chamber_portal(tmp_path, login_rate_limit="5/15minute") as (base, _, _):
        session = requests.Session()
        answers = [_attempt(session, base, TOURAINE_EDITOR, f"guess {n}").status_code for n in range(5)]
        assert answers == [401] * 5
        blocked = _attempt(requests.Session(), base, TOURAINE_EDITOR, PASSWORD)
        assert blocked.status_code == 429 and "Retry-After" in blocked.headers
        assert "Trop de tentatives" in blocked.text
        # The same limit for an account that does not exist: the answer tells nothing.
        ghosts = [_attempt(session, base, "nobody@x.fr", "g").status_code for _ in range(1)]
        assert ghosts == [429], "this address has used its attempts too"


def test_many_accounts_tried_from_one_address_are_stopped(tmp_path):
    with chamber_portal(tmp_path, login_rate_limit="5/15minute") as (base, _, _):
        session = requests.Session()
        answers = [_attempt(session, base, f"user{n}@x.fr", "guess").status_code for n in range(6)]
    assert answers == [401] * 5 + [429]


def test_login_starts_a_new_session_and_logout_ends_it_server_side(tmp_path):
    with chamber_portal(tmp_path, login_rate_limit="off") as (base, _, _):
        session = requests.Session()
        session.get(f"{base}/chambre/connexion", timeout=30)
        planted = session.cookies.get("emplettes_session")
        assert planted, "the login form sets a cookie for its CSRF token"
        response = _attempt(session, base, TOURAINE_ADMIN, PASSWORD)
        assert response.status_code == 302
        logged_in = session.cookies.get("emplettes_session")
        assert logged_in != planted
        # The pre-login cookie, replayed (say, planted by someone else), is not logged in.
        replay = requests.get(
            f"{base}/chambre/", cookies={"emplettes_session": planted}, allow_redirects=False, timeout=30
        )
        assert replay.status_code == 302
        # Logging out ends the session on the server: the old cookie no longer opens anything.
        page = session.get(f"{base}/chambre/", timeout=30)
        assert session.post(f"{base}/chambre/deconnexion", data={"csrf_token": csrf_token(page.text)}, timeout=30).ok
        stolen = requests.get(
            f"{base}/chambre/", cookies={"emplettes_session": logged_in}, allow_redirects=False, timeout=30
        )
        assert stolen.status_code == 302


def test_resetting_a_password_ends_the_accounts_sessions(tmp_path):
    from chamber_portal import emplettes

    with chamber_portal(tmp_path, login_rate_limit="off") as (base, _, config):
        session = login(base, TOURAINE_EDITOR)
        assert session.get(f"{base}/chambre/", allow_redirects=False, timeout=30).status_code == 200
        new = "another long password"
        done = emplettes(config, "users", "reset-password", TOURAINE_EDITOR, stdin=f"{new}\n{new}\n")
        assert done.returncode == 0, done.stderr
        assert session.get(f"{base}/chambre/", allow_redirects=False, timeout=30).status_code == 302
        assert _attempt(requests.Session(), base, TOURAINE_EDITOR, new).status_code == 302


def test_the_session_cookie_is_secure_httponly_samesite_and_expires(portal):
    _, app, _ = portal
    client = app.test_client()
    page = client.get("/chambre/connexion", base_url="https://emplettes.example")
    token = csrf_token(page.get_data(as_text=True))
    answer = client.post(
        "/chambre/connexion",
        data={"csrf_token": token, "email": TOURAINE_ADMIN, "password": PASSWORD},
        base_url="https://emplettes.example",
        headers={"Referer": "https://emplettes.example/chambre/connexion"},
    )
    assert answer.status_code == 302
    cookie = answer.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Expires="):
        assert flag in cookie, cookie
    assert answer.headers.get("Cache-Control") == "no-store"


def test_dashboard_pages_carry_the_portals_content_security_policy(admin, base):
    from portal.security import CONTENT_SECURITY_POLICY

    for path in ("/chambre/", "/chambre/connexion", "/ma-boutique"):
        assert admin.get(base + path, timeout=30).headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_the_signing_key_is_generated_once_and_kept_private(portal):
    from portal.chambre.secret import FILENAME, secret_key

    _, app, config = portal
    path = config.data_dir / FILENAME
    assert path.stat().st_mode & 0o077 == 0
    assert app.secret_key == path.read_text().strip() == secret_key("", config.data_dir)
    assert secret_key("set-by-the-region", config.data_dir) == "set-by-the-region"


def test_with_the_search_index_down_the_dashboard_still_shows_the_runs(tmp_path):
    from dataclasses import replace

    from chamber_portal import chamber_data

    from portal import create_app
    from portal.server import serving_in_thread

    config = chamber_data(tmp_path, login_rate_limit="off")
    # An Elasticsearch cluster that does not answer (nothing listens on port 9 of loopback).
    down = replace(config, search_backend="elasticsearch", elasticsearch_url="http://127.0.0.1:9")
    with serving_in_thread(create_app(down)) as base:
        session = login(base, TOURAINE_ADMIN)
        overview = session.get(f"{base}/chambre/", timeout=30)
        source = session.get(f"{base}/chambre/source/epicerie-berry", timeout=30)
    assert overview.status_code == source.status_code == 200
    assert "erreur du serveur (500) × 7" in visible_text(overview.text) and "indisponible" in overview.text
    assert "Historique des collectes" in source.text and "indisponible" in source.text


def test_a_registry_that_no_longer_loads_keeps_the_last_listing_and_says_where(tmp_path):
    with chamber_portal(tmp_path, login_rate_limit="off") as (base, _, config):
        session = login(base, TOURAINE_ADMIN)
        assert "Senteurs de Loire" in session.get(f"{base}/chambre/", timeout=30).text
        text = config.sources_file.read_text().replace('postcode: "37000"', 'postcode: "370"', 1)
        config.sources_file.write_text(text)
        page = visible_text(session.get(f"{base}/chambre/", timeout=30).text)
    assert "Le registre des sources ne se charge pas" in page
    assert f"{config.sources_file}:9: postcode :" in page
    assert "Senteurs de Loire" in page, "the last valid listing stays"


@pytest.mark.parametrize("backend", PORTAL_BACKENDS)
def test_a_sources_products_and_quality_are_read_from_either_backend(tmp_path, backend):
    settings: dict = {"login_rate_limit": "off"}
    if backend == "elasticsearch":
        settings |= dict(
            search_backend="elasticsearch",
            elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
            elasticsearch_index=f"{ES_TEST_PREFIX}-chambre-{tmp_path.name}".lower(),
        )
    with chamber_portal(tmp_path, **settings) as (base, _, _):
        session = login(base, TOURAINE_ADMIN)
        source = visible_text(session.get(f"{base}/chambre/source/epicerie-berry", timeout=30).text)
        quality = visible_text(session.get(f"{base}/chambre/qualite", timeout=30).text)
    assert "2 produits dans le catalogue" in source and "Miel de Sologne" in source
    assert "Votre chambre 5" in quality and "Toute la région 6" in quality
