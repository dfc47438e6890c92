"""Chamber platforms: selectors from the registry, checked at load, applied by pure functions."""

from __future__ import annotations

import pytest

from crawler.adapters import platform
from crawler.registry import PlatformConfig, RegistryError, parse_registry

LISTING = """<html><body>
<div class="fiche"><a href="/p/vase?utm_source=accueil">Vase</a></div>
<div class="fiche"><a href="/p/bol">Bol</a></div><div class="fiche"><a href="/p/bol#avis">Bol</a></div>
<a class="suivant" href="?page=2">»</a></body></html>"""

PRODUCT = """<html><head><title>Bol</title></head><body><h1> Bol  en grès </h1>
<span class="montant">18,50 €</span><span class="dispo">Épuisé</span><img class="visuel" src="/img/bol.jpg">
<div class="atelier">Atelier <b>Terre &amp; Feu</b></div><a class="vers-atelier" href="/ateliers/terre-et-feu">voir</a>
</body></html>"""


def config(**changes) -> PlatformConfig:
    fields = {
        "listings": ["/produits"],
        "product_links": "//div[@class='fiche']/a/@href",  # XPath
        "next_page": "a.suivant::attr(href)",  # CSS
        "shop_name": ".atelier",
        "shop_link": "a.vers-atelier::attr(href)",
        "fields": {
            "name": "h1",
            "price": ".montant::text",
            "availability": ".dispo::text",
            "image": "img.visuel::attr(src)",
        },
    }
    fields.update(changes)
    return PlatformConfig.model_validate(fields)


def test_listing_links_are_absolute_deduplicated_and_untracked():
    links, following = platform.listing(LISTING, "https://vitrines.example/produits", config())
    assert links == ["https://vitrines.example/p/vase", "https://vitrines.example/p/bol"]
    assert following == "https://vitrines.example/produits?page=2"


def test_product_fields_from_selectors_and_its_shop():
    product, shop = platform.product_page(PRODUCT, "https://vitrines.example/p/bol", config())
    assert shop == {"name": "Atelier Terre & Feu", "url": "https://vitrines.example/ateliers/terre-et-feu"}
    assert (product["name"], product["price"], product["currency"], product["availability"], product["image"]) == (
        "Bol en grès",
        "18.50",
        "EUR",
        "out_of_stock",
        "https://vitrines.example/img/bol.jpg",
    )


def test_a_page_without_product_is_not_a_product():
    product, _ = platform.product_page(
        "<html><body><p>Mentions légales</p></body></html>", "https://v.example/x", config()
    )
    assert product is None


def test_bad_selectors_are_reported_at_load_with_their_line():
    text = """sources:
  - id: vitrines
    name: Vitrines
    url: https://vitrines.example/
    town: Blois
    postcode: "41000"
    platform:
      listings: [/produits]
      product_links: "//div[@class='fiche'"
      shop_name: ".atelier"
"""
    with pytest.raises(RegistryError) as error:
        parse_registry(text)
    assert error.value.problems[0].startswith("sources.yaml:9: platform.product_links : XPath invalide")


def test_a_platform_block_makes_the_kind_platform():
    text = """sources:
  - id: vitrines
    name: Vitrines
    url: https://vitrines.example/
    town: Blois
    postcode: "41000"
    platform: {listings: [/produits], product_links: "a::attr(href)", shop_name: ".atelier"}
"""
    assert parse_registry(text).sources[0].kind == "platform"
