"""``emplettes sources add URL``: detect, append a commented entry, keep the chamber's file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from loopback import closed_port

from crawler.registry import load_registry
from crawler.sources_add import AddError, add_source, slugify
from samples import SampleSites
from samples.platforms import PlatformShop, PlatformSites

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sites():
    with PlatformSites([PlatformShop("shopify", n=30), PlatformShop("feed-rss", n=4)]) as running:
        yield running


@pytest.fixture
def registry(tmp_path):
    path = tmp_path / "sources.yaml"
    shutil.copy(REPO / "sources.yaml", path)
    return path


def test_add_keeps_every_byte_of_the_chambers_file_and_appends_a_valid_entry(sites, registry):
    before = registry.read_text()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "emplettes.cli",
            "sources",
            "add",
            sites.base_urls["shopify"],
            "--file",
            str(registry),
            "--town",
            "Tours",
            "--postcode",
            "37000",
            "--allow-private",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert result.returncode == 0, result.stderr
    assert "détecté : shopify (products.json, 30 " in result.stdout
    after = registry.read_text()
    assert after.startswith(before), "comments, order and layout are kept"
    added = after[len(before) :]
    assert (
        "# ajouté par « emplettes sources add »" in added and "kind: shopify" in added and 'postcode: "37000"' in added
    )
    loaded = load_registry(registry)
    assert loaded.sources[-1].id == "boutique-shopify" and loaded.sources[-1].kind == "shopify"
    assert len(loaded.sources) == len(load_registry(REPO / "sources.yaml").sources) + 1


def test_add_a_feed_shop_records_its_feed(sites, registry):
    added = add_source(registry, sites.base_urls["feed-rss"], town="Blois", postcode="41000", allow_private=True)
    source = load_registry(registry).get(added.id)
    assert source.kind == "feed" and source.feed.endswith("/feeds/products.rss")


def test_add_refuses_duplicates_and_missing_address_without_touching_the_file(sites, registry):
    add_source(registry, sites.base_urls["shopify"], town="Tours", postcode="37000", allow_private=True)
    before = registry.read_text()
    with pytest.raises(AddError, match="est déjà inscrite sous l'identifiant « boutique-shopify »"):
        add_source(registry, sites.base_urls["shopify"], town="Tours", postcode="37000", allow_private=True)
    with pytest.raises(AddError, match="précisez --town et --postcode"):
        add_source(registry, sites.base_urls["feed-rss"], allow_private=True)
    with pytest.raises(AddError, match="postcode : un code postal a cinq chiffres"):
        add_source(registry, sites.base_urls["feed-rss"], town="Blois", postcode="4100", allow_private=True)
    assert registry.read_text() == before


def add(*args: str, stdin=None, input_text: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "sources", "add", *args],
        capture_output=stdin is None,
        stdout=subprocess.PIPE if stdin is not None else None,
        stderr=subprocess.PIPE if stdin is not None else None,
        stdin=stdin,
        input=input_text,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("La Chandellerie d'Amboise", "la-chandellerie-d-amboise"),
        ("La Chandellerie d&#39;Amboise", "la-chandellerie-d-amboise"),
        ("L’Œuf & la Poule — Épicerie", "l-oeuf-la-poule-epicerie"),
        ("Boulangerie Sainte-Bœuve", "boulangerie-sainte-boeuve"),
        ("!!!", "boutique"),
    ],
)
def test_ids_come_from_french_names(name, slug):
    assert slugify(name) == slug


def test_a_title_with_html_entities_gives_a_readable_name_and_id(tmp_path):
    """The sample Chandellerie's pages escape its apostrophe (``d&#39;Amboise``), as Jinja does."""
    registry = tmp_path / "sources.yaml"
    registry.write_text("# Registre de la chambre\nsources:\n", encoding="utf-8")
    with SampleSites(port=0, shops=["chandellerie-d-amboise"]) as shops:
        url = shops.base_urls["chandellerie-d-amboise"]
        assert b"d&#39;Amboise" in __import__("urllib.request").request.urlopen(url, timeout=30).read()
        result = add(url, "--file", str(registry), "--town", "Amboise", "--postcode", "37400", "--allow-private")
    assert result.returncode == 0, result.stderr
    (source,) = load_registry(registry).sources
    assert (source.id, source.name) == ("la-chandellerie-d-amboise", "La Chandellerie d'Amboise")
    assert (source.town, source.postcode) == ("Amboise", "37400")
    assert source.geo is not None and round(source.geo.lat, 1) == 47.4  # the shop's markup, else the town centre
    text = registry.read_text(encoding="utf-8")
    assert text.startswith("# Registre de la chambre\nsources:\n") and "&#39;" not in text
    assert result.stdout.startswith("détecté : website")


def test_on_a_terminal_add_shows_the_entry_and_writes_only_once_confirmed(sites, registry):
    before = registry.read_text()
    url = sites.base_urls["shopify"]
    args = (url, "--file", str(registry), "--town", "Tours", "--postcode", "37000", "--allow-private")
    for answer, written in (("n\n", False), ("o\n", True)):
        leader, follower = os.openpty()  # stdin is a terminal: the command asks
        try:
            os.write(leader, answer.encode())
            result = add(*args, stdin=follower)
        finally:
            os.close(leader)
            os.close(follower)
        assert "détecté : shopify" in result.stdout and "id: boutique-shopify" in result.stdout
        assert "Ajouter « boutique-shopify »" in result.stdout
        if written:
            assert result.returncode == 0, result.stderr
            assert load_registry(registry).sources[-1].id == "boutique-shopify"
        else:
            assert result.returncode == 1 and "rien n'a été écrit" in result.stderr
            assert registry.read_text() == before


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://boutique-qui-n-existe-pas.invalid/", "est injoignable"),
        (f"http://127.0.0.1:{closed_port()}/", "est injoignable : la connexion a été refusée"),
        ("ftp://boutique.example.fr/", "n'est pas une adresse http:// ou https://"),
        ("", "n'est pas une adresse http:// ou https://"),
    ],
    ids=["dns", "refused", "ftp", "empty"],
)
def test_an_unreachable_or_wrong_address_is_one_french_line_and_no_write(registry, url, why):
    before = registry.read_text()
    result = add(url, "--file", str(registry), "--town", "Tours", "--postcode", "37000", "--allow-private")
    assert result.returncode == 1
    assert result.stderr.startswith("sources add : ") and why in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert registry.read_text() == before
