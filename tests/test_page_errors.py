"""`unparseable_html`: a page served as HTML that has no usable markup is a page error.

Honest both ways: junk, an empty body or a bare message served as ``text/html`` is the
shop's broken page (counted, so the run is ``partial`` and sweeps nothing); a readable
page that simply declares no product is not an error.
"""

from __future__ import annotations

import pytest

from crawler.errors import UNPARSEABLE_HTML, html_problem


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"  \n\t ",
        b'\x00\xff\xfe<html><head><script type=\'application/ld+json\'>{"@type": "Product"' + bytes(range(256)) * 20,
        bytes(range(256)) * 20,  # an image or archive served as text/html
        b"\x89PNG\r\n\x1a\n" + bytes(200),
        b"Service temporarily unavailable",  # a bare message with a 200
        b'{"products": []}',  # JSON served as text/html
        b"a < b and c > d",  # angle brackets, but no tag
    ],
)
def test_pages_without_usable_markup_are_unparseable(body):
    assert html_problem(body) == UNPARSEABLE_HTML


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Nos horaires</title></head><body><p>Ouvert le lundi</p></body></html>",
        b"<p>Ferm\xc3\xa9 pour travaux</p>",  # a fragment is still markup
        b"<br />\n<b>Warning</b>: mysql_connect() in <b>/var/www/index.php</b>",  # ugly, but HTML
        "<html><body>Poupée</body></html>".encode("utf-16"),  # UTF-16 with a BOM: NULs are legitimate
        b"<html><body>" + b"x" * 200_000 + b"</body></html>",
        b"<div <div <table></p></html>",  # broken markup lxml recovers from
    ],
)
def test_readable_pages_are_not_errors_even_without_products(body):
    assert html_problem(body) is None
