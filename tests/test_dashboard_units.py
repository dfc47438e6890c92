"""Unit tests of the dashboard's pure parts: data quality, the JSON-LD advice, the click
charts' geometry, the relative times; and of the account store (sessions, journal)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from indexer.runlog import ago
from portal.chambre.accounts import AccountError, Accounts
from portal.chambre.charts import daily_series
from portal.chambre.overview import error_label
from portal.chambre.quality import example_product, json_ld, quality_of

FULL = {
    "type": "product",
    "name": "Bougie",
    "price": "12.50",
    "currency": "EUR",
    "availability": "in_stock",
    "image": "https://a.fr/b.jpg",
    "brand": "Cire",
    "gtin": "3760000000001",
    "description": "Une bougie",
    "url": "https://a.fr/p/1",
}
BARE = {"type": "product", "name": "Vase", "availability": "unknown", "url": "https://a.fr/p/2"}


def test_quality_counts_each_field_and_puts_what_costs_most_first():
    quality = quality_of([FULL, BARE, {"type": "shop", "name": "La boutique"}])
    assert quality.products == 2
    assert {row["field"]: row["percent"] for row in quality.rows()} == dict.fromkeys(
        ["price", "availability", "image", "brand", "gtin", "description"], 50
    )
    assert quality.missing[:2] == ["price", "availability"]
    assert quality.score == 50 and quality.gain == 50
    assert quality.missing_labels(2) == ["prix", "disponibilité"]


def test_a_shop_without_products_has_nothing_to_gain_and_a_zero_score():
    quality = quality_of([])
    assert (quality.products, quality.score, quality.gain) == (0, 0, 0)


def test_the_example_is_the_product_lacking_the_most():
    assert example_product([FULL, BARE]) is BARE
    assert example_product([{"type": "product", "name": ""}]) is None


def test_the_json_ld_block_keeps_the_products_values_and_asks_for_the_rest():
    block = json_ld(BARE, "La boutique")
    assert block.startswith('<script type="application/ld+json">\n') and block.endswith("\n</script>")
    data = json.loads(block.split("\n", 1)[1].rsplit("\n", 1)[0])
    assert data["name"] == "Vase" and data["offers"]["url"] == "https://a.fr/p/2"
    assert data["offers"]["price"].startswith("À COMPLÉTER")
    assert data["offers"]["seller"]["name"] == "La boutique"
    assert data["offers"]["availability"] == "https://schema.org/InStock", "unknown: the example says in stock"


def test_the_json_ld_block_cannot_close_its_script_or_open_a_tag():
    hostile = {**BARE, "name": "</script><script>alert(1)</script>", "description": "a & <b>"}
    block = json_ld(hostile)
    body = block.split("\n", 1)[1].rsplit("\n", 1)[0]
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body)["name"] == hostile["name"], "the same text once parsed"


def test_daily_series_has_one_bar_per_day_scaled_to_the_peak():
    chart = daily_series("s", "S", {"2026-12-01": 4, "2026-12-03": 2}, date(2026, 12, 1), date(2026, 12, 3))
    assert [bar.count for bar in chart.bars] == [4, 0, 2]
    assert chart.total == 6 and chart.peak == 4
    tallest, empty, half = chart.bars
    assert empty.height == 0 and half.height == pytest.approx(tallest.height / 2, abs=0.1)
    assert all(bar.y + bar.height == pytest.approx(chart.base, abs=0.1) for bar in chart.bars)
    assert tallest.x < empty.x < half.x <= chart.width


def test_relative_times_in_french_past_and_future():
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    assert ago("2026-12-06T09:00:00Z", now) == "il y a 3 h"
    assert ago(now + timedelta(minutes=30), now) == "dans 30 min"
    assert ago("2026-11-26T12:00:00Z", now) == "il y a 10 jours"
    assert ago(None, now) == "—"


@pytest.mark.parametrize(
    ("kind", "label"),
    [
        ("http_500", "erreur du serveur (500)"),
        ("http_404", "page introuvable (404)"),
        ("timeout", "délai dépassé"),
        ("new_kind", "new_kind"),
    ],
)
def test_error_kinds_are_named_in_french(kind, label):
    assert error_label(kind) == label


# -- the account store -----------------------------------------------------------------------


@pytest.fixture
def accounts(tmp_path):
    with Accounts(tmp_path / "users.sqlite3") as store:
        yield store


def test_sessions_expire_and_end_with_their_account(accounts):
    user = accounts.add("a@b.fr", "cci-x", "editor", "assez long mot", actor="test")
    live = accounts.open_session(user, timedelta(hours=1))
    expired = accounts.open_session(user, timedelta(seconds=-1))
    assert accounts.session_user(live) == user
    assert accounts.session_user(expired) is None
    accounts.remove("a@b.fr", actor="test")
    assert accounts.session_user(live) is None


def test_authentication_is_case_insensitive_on_the_address_only(accounts):
    accounts.add("Agent@CCI.fr", "cci-x", "admin", "Mot De Passe Long", actor="test")
    assert accounts.authenticate("agent@cci.FR", "Mot De Passe Long") is not None
    assert accounts.authenticate("agent@cci.fr", "mot de passe long") is None
    assert accounts.authenticate("nobody@cci.fr", "Mot De Passe Long") is None


@pytest.mark.parametrize(
    ("email", "role", "chamber", "message"),
    [
        ("pas-une-adresse", "editor", "c", "adresse"),
        ("a@b.fr", "owner", "c", "rôle"),
        ("a@b.fr", "editor", " ", "chambre"),
    ],
)
def test_invalid_accounts_are_refused_in_french(accounts, email, role, chamber, message):
    with pytest.raises(AccountError, match=message):
        accounts.add(email, chamber, role, "assez long mot", actor="test")


def test_the_journal_is_per_chamber_newest_first(accounts):
    accounts.record("a@x.fr", "cci-x", "connexion")
    accounts.record("b@y.fr", "cci-y", "connexion")
    accounts.record("a@x.fr", "cci-x", "collecte demandée", "source-1")
    assert [(e.actor, e.action, e.target) for e in accounts.journal("cci-x")] == [
        ("a@x.fr", "collecte demandée", "source-1"),
        ("a@x.fr", "connexion", ""),
    ]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1:8000", True),
        ("localhost", True),
        ("[::1]:8000", True),
        ("emplettes.fr", False),
        ("10.0.0.1:80", False),
        ("[::1", False),
    ],
)
def test_only_plain_http_on_loopback_gets_a_cookie_without_secure(host, loopback):
    from portal.chambre.sessions import _loopback

    assert _loopback(host) is loopback


def test_a_catalogue_sums_up_per_shop_without_keeping_the_products():
    from portal.chambre.overview import Catalogue

    catalogue = Catalogue()
    older = {**BARE, "shop_id": "b", "shop_name": "B", "price": "3", "last_seen": "2026-11-01T08:00:00Z"}
    for product in (
        {**FULL, "shop_id": "a", "shop_name": "A", "last_seen": "2026-12-01T08:00:00Z"},
        older,
        {**FULL, "shop_id": "b", "shop_name": "B", "last_seen": "2026-12-02T08:00:00Z"},
    ):
        catalogue.add(product)
    assert catalogue.products == 3 and catalogue.shops == {"a": "A", "b": "B"}
    assert catalogue.qualities["b"].products == 2 and catalogue.examples["b"] is older
    assert catalogue.oldest_price_seen == "2026-11-01T08:00:00Z"
    assert catalogue.quality.products == 3 and catalogue.quality.present["gtin"] == 2
