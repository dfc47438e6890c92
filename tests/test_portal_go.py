"""``/go/<id>``: redirects only onto the product's own source, counts clicks, keeps nothing personal.

The host rule is unit-tested on hostile URLs; the route is exercised over real HTTP against
a real tantivy index served by waitress, with its own data directory for the click file.
"""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, date, datetime

import pytest
import requests
from served_portal import PORTAL_BACKENDS, served_portal

from indexer.records import ProductRecord, ShopRecord
from portal.clicks import FILENAME, ClickCounter, read_clicks, today
from portal.go import outbound_url, product_target, source_host

SHOP = "shop.example"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://shop.example/produits/1", "https://shop.example/produits/1"),
        ("http://shop.example/p?id=3#avis", "http://shop.example/p?id=3#avis"),
        ("https://www.shop.example/p", "https://www.shop.example/p"),
        ("https://boutique.shop.example/p", "https://boutique.shop.example/p"),
        ("HTTPS://SHOP.EXAMPLE/P", "https://shop.example/P"),
        ("https://shop.example./p", "https://shop.example/p"),
        ("https://shop.example:8443/p", "https://shop.example:8443/p"),
        ("  https://shop.example/p  ", "https://shop.example/p"),
        ("https://shop.example/thé vert", "https://shop.example/th%C3%A9%20vert"),
        ("https://shop.example", "https://shop.example/"),
    ],
)
def test_links_onto_the_source_host_are_followed_and_normalised(url, expected):
    assert outbound_url(url, SHOP) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/p",
        "//evil.example/p",
        "///evil.example/p",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://shop.example/p",
        "https:shop.example/p",
        "https:/\\evil.example/",
        "https://shop.example@evil.example/",
        "https://shop.example:443@evil.example/",
        "https://user:pass@shop.example/",
        "https://evil.example\\@shop.example/",
        "https://shop.example\\evil.example/",
        "https://evil.example\\.shop.example/",
        "https://shop.example.evil.example/",
        "https://evilshop.example/",
        "https://xn--hop-i5d.example/",  # "ѕhop.example" with a Cyrillic ѕ
        "https://ѕhop.example/",
        "https://shop.example%2eevil.example/",
        "https://shop.example/p\r\nSet-Cookie: x=1",
        "https://shop.example/p\tx",
        "https://shop.example:99999/p",
        "https://shop.example:port/p",
        "https://127.0.0.1/",
        "https://[::1]/",
        "https:///shop.example/",
        "",
        None,
        42,
    ],
)
def test_open_redirect_attempts_are_refused(url):
    assert outbound_url(url, SHOP) is None


def test_fullwidth_letters_normalise_to_the_host_browsers_would_reach():
    # IDNA maps "ｅ" to "e": the browser would reach shop.example, and so does our Location.
    assert outbound_url("https://shop.ｅxample/p", SHOP) == "https://shop.example/p"


def test_the_source_url_decides_then_the_shop_url():
    record = {
        "url": "https://shop.example/p",
        "source_url": "https://www.shop.example/",
        "shop_url": "https://other.example/",
    }
    assert source_host(record) == "www.shop.example"
    assert product_target(record) == "https://shop.example/p"  # www. of the source is ignored
    assert product_target({**record, "url": "https://other.example/p"}) is None  # the source wins
    assert (
        product_target({"url": "https://shop.example/p", "shop_url": "https://shop.example/"})
        == "https://shop.example/p"
    )
    assert product_target({"url": "https://shop.example/p"}) is None  # nothing to check it against
    assert (
        product_target(
            {"url": "https://shop.example/p", "source_url": "javascript:x", "shop_url": "https://shop.example"}
        )
        == "https://shop.example/p"
    )
    assert product_target({"url": "https://shop.example/p", "shop_url": "https://x@shop.example/"}) is None


def test_a_bare_www_host_is_not_stripped_to_a_public_suffix():
    assert outbound_url("https://anything.fr/", "www.fr") is None
    assert outbound_url("https://www.fr/", "www.fr") == "https://www.fr/"


# --------------------------------------------------------------------------- over HTTP

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _product(slug: str, url: str, **extra) -> dict:
    record = ProductRecord(
        id=f"cave-{slug}",
        source_id="cave",
        run_id="r1",
        shop_id="cave",
        shop_name="La Cave du Coin",
        shop_url="https://cave.example/",
        town="Tours",
        name=f"Vin {slug}",
        price="9.90",
        currency="EUR",
        url="https://cave.example/placeholder",
        first_seen=NOW,
        last_seen=NOW,
    ).model_dump(mode="json")
    record.update(url=url, **extra)
    return record


GOOD = _product("bon", "https://cave.example/vins/bon", source_url="https://www.cave.example/")
RECORDS = [
    ShopRecord(
        id="cave", source_id="cave", run_id="r1", name="La Cave du Coin", url="https://cave.example/", town="Tours"
    ).model_dump(mode="json"),
    GOOD,
    _product("ailleurs", "https://evil.example/phishing", source_url="https://cave.example/"),
    _product("userinfo", "https://cave.example@evil.example/", source_url="https://cave.example/"),
    _product("js", "javascript:alert(1)"),
    _product("ancien", "https://cave.example/vins/ancien"),  # no source_url: shop_url decides
]


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def go_portal(request, tmp_path_factory):
    with served_portal(RECORDS, tmp_path_factory.mktemp("go-data"), request.param) as (url, _, config):
        yield url, config.data_dir / FILENAME


def _clicks(path) -> int:
    return sum(c.count for c in read_clicks(path, shop_id="cave"))


def test_a_product_link_redirects_to_its_page_without_caching_or_leaking_the_search(go_portal):
    url, _ = go_portal
    response = requests.get(f"{url}/go/cave-bon", allow_redirects=False, timeout=5)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://cave.example/vins/bon"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "strict-origin"
    assert "Set-Cookie" not in response.headers


def test_no_parameter_can_change_the_destination(go_portal):
    url, _ = go_portal
    for query in ("?next=https://evil.example/", "?url=//evil.example", "?redirect=javascript:alert(1)"):
        response = requests.get(f"{url}/go/cave-bon{query}", allow_redirects=False, timeout=5)
        assert response.headers["Location"] == "https://cave.example/vins/bon"


def test_records_without_source_url_use_the_shop_host(go_portal):
    url, _ = go_portal
    response = requests.get(f"{url}/go/cave-ancien", allow_redirects=False, timeout=5)
    assert response.status_code == 302 and response.headers["Location"] == "https://cave.example/vins/ancien"


@pytest.mark.parametrize("record_id", ["cave-ailleurs", "cave-userinfo", "cave-js"])
def test_a_link_off_the_source_gets_a_french_page_and_no_redirect(go_portal, record_id):
    url, path = go_portal
    before = _clicks(path)
    response = requests.get(f"{url}/go/{record_id}", allow_redirects=False, timeout=5)
    assert response.status_code == 403 and "Location" not in response.headers
    assert "Ce lien n'a pas été suivi" in response.text
    assert "evil.example" not in response.text and "javascript:" not in response.text
    assert 'href="/boutique/cave"' in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert _clicks(path) == before  # refused links are not clicks


def test_unknown_ids_and_shops_are_not_found(go_portal):
    url, _ = go_portal
    assert requests.get(f"{url}/go/nope", allow_redirects=False, timeout=5).status_code == 404
    assert requests.get(f"{url}/go/cave", allow_redirects=False, timeout=5).status_code == 404  # a shop, not a product
    assert requests.get(f"{url}/go/", allow_redirects=False, timeout=5).status_code == 404


def test_each_click_counts_once_for_the_shop_today(go_portal):
    url, path = go_portal
    before = _clicks(path)
    for _ in range(3):
        assert requests.get(f"{url}/go/cave-bon", allow_redirects=False, timeout=5).status_code == 302
    requests.head(f"{url}/go/cave-bon", allow_redirects=False, timeout=5)  # not a click
    requests.get(f"{url}/go/cave-bon", headers={"Sec-Purpose": "prefetch"}, allow_redirects=False, timeout=5)
    assert _clicks(path) == before + 3
    rows = read_clicks(path, since=date.fromisoformat(today()))
    assert [(r.day, r.shop_id) for r in rows] == [(today(), "cave")]


def test_concurrent_clicks_are_all_counted(go_portal):
    url, path = go_portal
    before = _clicks(path)
    errors: list[object] = []

    def click_many():
        with requests.Session() as session:
            for _ in range(15):
                response = session.get(f"{url}/go/cave-bon", allow_redirects=False, timeout=10)
                if response.status_code != 302:
                    errors.append(response.status_code)

    threads = [threading.Thread(target=click_many) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _clicks(path) == before + 8 * 15


def test_the_click_file_stores_only_day_shop_and_count(go_portal):
    import sqlite3

    _, path = go_portal
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(clicks)")]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert columns == ["day", "shop_id", "count"] and tables == ["clicks"]
    assert mode == "wal"


def test_a_broken_click_store_never_blocks_the_redirect(tmp_path_factory):
    # The click file's path is taken by a directory: every count fails.
    data = tmp_path_factory.mktemp("go-broken")
    with served_portal(RECORDS, data, prepare=lambda c: (c.data_dir / FILENAME).mkdir()) as (url, _, _):
        response = requests.get(f"{url}/go/cave-bon", allow_redirects=False, timeout=5)
    assert response.status_code == 302 and response.headers["Location"] == "https://cave.example/vins/bon"


def _count_in_process(path: str, n: int) -> None:
    counter = ClickCounter(path)
    for _ in range(n):
        assert counter.count("cave", day="2026-11-20")


def test_several_processes_count_into_one_file(tmp_path):
    path = tmp_path / FILENAME
    ClickCounter(path).count("cave", day="2026-11-19")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_count_in_process, args=(str(path), 150)) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert all(w.exitcode == 0 for w in workers)
    rows = read_clicks(path)
    assert [(r.day, r.shop_id, r.count) for r in rows] == [("2026-11-19", "cave", 1), ("2026-11-20", "cave", 450)]
    assert [r.day for r in read_clicks(path, since=date(2026, 11, 20))] == ["2026-11-20"]
    assert read_clicks(path, until=date(2026, 11, 19), shop_id="cave")[0].count == 1
    assert read_clicks(tmp_path / "absent.sqlite3") == []


def test_the_counting_day_is_the_local_day_in_paris():
    # 23:30 UTC on 31 December is already New Year's Day in Paris.
    assert today(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "2027-01-01"


def test_the_command_line_prints_clicks_per_day_and_shop(tmp_path, monkeypatch, capsys):
    from emplettes.cli import main

    counter = ClickCounter(tmp_path / FILENAME)
    for day, shop in [("2026-11-20", "cave"), ("2026-11-20", "cave"), ("2026-11-21", "fromagerie")]:
        counter.count(shop, day=day)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    assert main(["clicks"]) == 0
    assert capsys.readouterr().out == "2026-11-20\tcave\t2\n2026-11-21\tfromagerie\t1\n"
    assert main(["clicks", "--since", "2026-11-21", "--shop", "fromagerie"]) == 0
    assert capsys.readouterr().out == "2026-11-21\tfromagerie\t1\n"
    assert main(["clicks", "--since", "hier"]) == 2


def test_a_client_replaying_links_is_redirected_but_counted_only_up_to_the_limit(tmp_path_factory):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(data_dir=tmp_path_factory.mktemp("go-limit"), click_count_limit="3/hour")
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(RECORDS)
    with serving_in_thread(create_app(config)) as url:
        statuses = [requests.get(f"{url}/go/cave-bon", allow_redirects=False, timeout=5).status_code for _ in range(5)]
    assert statuses == [302] * 5
    assert _clicks(config.data_dir / FILENAME) == 3


def test_an_ipv6_literal_host_keeps_its_brackets():
    assert outbound_url("http://[::1]:8080/x", "::1") == "http://[::1]:8080/x"
