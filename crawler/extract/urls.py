"""URL resolution: relative, protocol-relative and entity-escaped URLs."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import lxml.etree
from w3lib.url import safe_url_string

from crawler.extract.text import first, looks_like_template, unescape


def absolute_url(value: object, base: str | None) -> str | None:
    """Resolve a declared URL against the page base; None if it is not a web URL.

    Protocol-relative URLs get ``https:`` (the scheme of nearly every shop
    today, and the one the corpus expects), not the page's scheme.
    """
    value = first(value)
    if isinstance(value, dict):  # ImageObject / {"@id": ...}
        value = first(value.get("url") or value.get("contentUrl") or value.get("@id"))
    if not isinstance(value, str):
        return None
    url = unescape(value).strip()
    if not url or looks_like_template(url) or url.startswith(("javascript:", "data:", "mailto:", "#")):
        return None
    if url.startswith("//"):
        url = "https:" + url
    try:
        if base:
            url = urljoin(base, url)
        scheme = urlsplit(url).scheme
    except ValueError:  # "http://[::1" and other unparseable URLs
        return None
    if scheme and scheme not in ("http", "https"):
        return None
    if url.isascii() and " " not in url:
        return url  # already safe; safe_url_string is costly, and called for every link of every page
    try:
        return safe_url_string(url)
    except ValueError:
        return None


_BASE_HREF = lxml.etree.XPath("/html/head/base/@href")
# <link> and <base> belong in <head>, where lxml keeps them; looking only
# there avoids two scans of the whole document per page.
_CANONICAL = "link[@href][contains(concat(' ', translate(@rel, 'CANOICL', 'canoicl'), ' '), ' canonical ')]/@href"
_CANONICAL_HREF = lxml.etree.XPath("/html/head/" + _CANONICAL)
_CANONICAL_HREF_ANYWHERE = lxml.etree.XPath("//" + _CANONICAL)  # DOM snapshots with an emptied <head>


def document_base(tree, page_url: str | None) -> str | None:
    """The base for relative URLs: ``<base href>`` resolved against the page URL."""
    hrefs = _BASE_HREF(tree) if tree is not None else []
    if hrefs:
        base = absolute_url(hrefs[0], page_url)
        if base:
            return base
    return page_url or None


def canonical_link(tree, base: str | None) -> str | None:
    for href in _CANONICAL_HREF(tree) or _CANONICAL_HREF_ANYWHERE(tree):
        url = absolute_url(href, base)
        if url:
            return url
    return None
