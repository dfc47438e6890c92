"""Product feeds: RSS 2.0 g:, Atom, TSV/CSV with the defects real exports have."""

from __future__ import annotations

import pytest

from crawler.adapters import MalformedPayload, feeds

BASE = "https://epicerie.example.fr/"

RSS = """<?xml version="1.0"?>
<rss version="2.0" xmlns:g="http://base.google.com/ns/1.0"><channel><title>Épicerie</title>
<item>
  <g:id>LEN-1</g:id><title>Lentilles vertes du Berry</title><link>https://epicerie.example.fr/p/lentilles</link>
  <g:price>8.30 EUR</g:price><g:availability>in stock</g:availability><g:gtin>3760123456789</g:gtin>
  <g:shipping><g:country>FR</g:country><g:price>4.90 EUR</g:price></g:shipping>
  <g:store_code>BOURGES-1</g:store_code><g:pickup_method>buy</g:pickup_method><g:pickup_sla>same day</g:pickup_sla>
</item>
<item>
  <g:id>MIE-2</g:id><g:title>Miel de Sologne</g:title><g:link>/p/miel</g:link>
  <g:price>6,90 EUR</g:price><g:sale_price>5,50 EUR</g:sale_price><g:availability>backorder</g:availability>
  <g:google_product_category>Aliments &gt; Miel</g:google_product_category>
</item>
<item><title>Un article de blog</title><link>https://epicerie.example.fr/blog/1</link>
  <description>Pas un produit</description></item>
</channel></rss>"""


def test_rss_g_fields_sale_price_wins_and_shipping_price_is_ignored():
    lentils, honey = feeds.parse(RSS.encode(), BASE).products
    assert (lentils["price"], lentils["currency"], lentils["availability"], lentils["gtin"], lentils["sku"]) == (
        "8.30",
        "EUR",
        "in_stock",
        "3760123456789",
        "LEN-1",
    )
    assert lentils["url"] == "https://epicerie.example.fr/p/lentilles"
    assert (honey["price"], honey["availability"], honey["category"], honey["url"]) == (
        "5.50",
        "preorder",
        "Miel",
        "https://epicerie.example.fr/p/miel",
    )


def test_local_inventory_fields_are_kept_in_merchant_center_words():
    lentils, honey = feeds.parse(RSS.encode(), BASE).products
    assert (lentils["store_code"], lentils["pickup_method"], lentils["pickup_sla"]) == ("BOURGES-1", "buy", "same_day")
    assert "store_code" not in honey and "pickup_method" not in honey  # only when the feed says so
    tsv = (
        "id\ttitle\tprice\tavailability\tlink\tstore code\tpickup_method\tPickup SLA\n"
        "A1\tConfiture\t6.90 EUR\ton display to order\t/p/a1\tTOURS-2\tShip to store\tmulti-week\n"
        "A2\tMiel\t5 EUR\tin stock\t/p/a2\tTOURS-2\tteleport\tyesterday\n"
    )
    jam, miel = feeds.parse(tsv.encode(), BASE).products
    assert (jam["availability"], jam["store_code"], jam["pickup_method"], jam["pickup_sla"]) == (
        "preorder",
        "TOURS-2",
        "ship_to_store",
        "multi_week",
    )
    assert (miel["store_code"], miel.get("pickup_method"), miel.get("pickup_sla")) == ("TOURS-2", None, None)


def test_atom_entries():
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:g="http://base.google.com/ns/1.0"><entry>'
        '<title>Savon</title><link rel="alternate" href="/p/savon"/><summary>Au lait d\'ânesse</summary>'
        "<g:price>4.00 EUR</g:price><g:availability>out_of_stock</g:availability></entry></feed>"
    )
    (soap,) = feeds.parse(atom.encode(), BASE).products
    assert (soap["name"], soap["url"], soap["price"], soap["availability"], soap["description"]) == (
        "Savon",
        "https://epicerie.example.fr/p/savon",
        "4.00",
        "out_of_stock",
        "Au lait d'ânesse",
    )


@pytest.mark.parametrize(
    "text",
    [
        "\ufeffid;title;price;availability;link\nA1;Confiture;6,90 EUR;in stock;/p/a1\n",  # BOM, semicolons
        "ID\tg:title\tg:price\tg:availability\tg:link\nA1\tConfiture\t6.90 EUR\tin_stock\t/p/a1\n",  # TSV, g: headers
        "id|Title|Price|Availability|Link\nA1|Confiture|6.90 EUR|in stock|/p/a1\n",  # pipes, capitalised
        "id,title,price,availability,link\nA1,Confiture,6.90 EUR,in stock,/p/a1,\n",  # one column off (trailing comma)
        'id,title,price,availability,link\n1,A1,"Confiture",6.90 EUR,in stock,/p/a1\n',  # header lacks the row number
    ],
)
def test_spreadsheet_exports(text):
    (product,) = feeds.parse(text.encode("utf-8"), BASE).products
    assert (
        product["sku"],
        product["name"],
        product["price"],
        product["currency"],
        product["availability"],
        product["url"],
    ) == ("A1", "Confiture", "6.90", "EUR", "in_stock", "https://epicerie.example.fr/p/a1")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<rss><channel><item><title>x</title>",
        b"<html><body>404</body></html>",
        b"nom;prix\nx;1\n",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><rss><channel><item><title>&e;</title></item></channel></rss>',
    ],
)
def test_malformed_or_hostile_feeds(body):
    try:
        page = feeds.parse(body, BASE)
    except MalformedPayload:
        return
    assert all("root:" not in (p["name"] or "") for p in page.products)
    assert page.products == []
