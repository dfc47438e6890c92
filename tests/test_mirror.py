"""``/ma-boutique``: a shop owner's self-check, over HTTP against the real portal, reading
real sample shop sites served on 127.0.1.x through the real ``emplettes check``.

The sample shops are on loopback addresses, which the mirror refuses like the crawler
does: the tests that read them turn on the app's test-only ``EMPLETTES_ALLOW_PRIVATE``.
"""

from __future__ import annotations

import html
import http.server
import re
import threading
import time

import pytest
import requests
from chamber_portal import csrf_token

from config import Config


@pytest.fixture(scope="module")
def shop_site():
    from samples import SampleSites

    with SampleSites(port=0, shops=["fromagerie-du-donjon"]) as shops:
        yield shops.base_urls["fromagerie-du-donjon"]


def served(data_dir, **settings):
    from portal import create_app
    from portal.server import serving_in_thread

    app = create_app(Config(data_dir=data_dir, **settings))
    return app, serving_in_thread(app)


def check(base: str, url: str, session: requests.Session | None = None) -> requests.Response:
    session = session or requests.Session()
    page = session.get(f"{base}/ma-boutique", timeout=30)
    return session.post(f"{base}/ma-boutique", data={"csrf_token": csrf_token(page.text), "url": url}, timeout=60)


def text_of(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def test_the_mirror_shows_what_the_portal_reads_and_what_to_add(tmp_path, shop_site):
    app, serving = served(tmp_path / "data")
    app.config["EMPLETTES_ALLOW_PRIVATE"] = True
    before = sorted(p.name for p in (tmp_path / "data").rglob("*"))
    with serving as base:
        answer = check(base, shop_site)
    assert answer.status_code == 200, answer.text
    text = text_of(answer.text)
    assert "un site dont les pages décrivent leurs produits" in text
    assert "Vos produits, comme les habitants les verraient" in text
    assert answer.text.count('class="product"') >= 1
    assert "Ce qu'il faudrait ajouter" in text and "application/ld+json" in text
    assert "demandez-le à votre chambre" in text
    assert sorted(p.name for p in (tmp_path / "data").rglob("*")) == before, "it stores nothing"


def test_the_mirror_refuses_private_addresses_like_the_crawler(tmp_path, shop_site):
    _, serving = served(tmp_path / "data")
    with serving as base:
        answer = check(base, shop_site)
    assert answer.status_code == 200
    (alert,) = re.findall(r'<div class="chambre-error" role="alert">(.*?)</div>', answer.text, re.S)
    host = shop_site.split("/")[2].split(":")[0]
    assert "n'a pas pu lire cette adresse" in text_of(alert) and host in alert, "the guard's reason names the address"


def test_the_mirror_form_needs_its_csrf_token(tmp_path):
    _, serving = served(tmp_path / "data")
    with serving as base:
        answer = requests.post(f"{base}/ma-boutique", data={"url": "https://exemple.fr/"}, timeout=30)
    assert answer.status_code == 400


def test_the_mirror_limits_checks_per_client(tmp_path):
    _, serving = served(tmp_path / "data", mirror_rate_limit="2/hour")
    with serving as base:
        statuses = [check(base, "http://127.0.0.1:9/").status_code for _ in range(3)]
        limited = check(base, "http://127.0.0.1:9/")
    assert statuses == [200, 200, 429]
    assert "Retry-After" in limited.headers and "réessayez" in text_of(limited.text)


def test_the_mirror_gives_up_at_its_time_budget(tmp_path):
    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(8)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app, serving = served(tmp_path / "data", mirror_time_budget=2)
    app.config["EMPLETTES_ALLOW_PRIVATE"] = True
    try:
        with serving as base:
            answer = check(base, f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
    assert answer.status_code == 200
    assert "trop de temps" in text_of(answer.text)


def test_a_malformed_address_is_explained_in_french(tmp_path):
    _, serving = served(tmp_path / "data")
    with serving as base:
        answer = check(base, "ma boutique")
    assert answer.status_code == 400
    assert "Une adresse complète" in text_of(answer.text)
