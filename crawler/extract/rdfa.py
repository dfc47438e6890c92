"""A small RDFa Lite reader for schema.org product markup.

pyRdfa (through extruct) re-parses the page into a DOM and builds an RDF graph,
dozens of times the cost of parsing the page (docs/benchmarks.md). Shops that use RDFa
for products use RDFa Lite (``vocab``/``typeof``/``property``/``resource``), which maps
onto nested dicts with one walk over the already-parsed tree. Run only when ``has_rdfa_products``.
"""

from __future__ import annotations

import lxml.etree

from crawler.extract.urls import absolute_url

_TYPED = lxml.etree.XPath("//@typeof")
_NODES = lxml.etree.XPath("//*[@typeof or @property]")
_URL_TAGS = {
    "a": "href",
    "link": "href",
    "area": "href",
    "img": "src",
    "audio": "src",
    "video": "src",
    "source": "src",
    "iframe": "src",
}
_TEXT = lxml.etree.XPath("string()")


def has_rdfa_products(tree) -> bool:
    for value in _TYPED(tree):
        lowered = value.lower()
        if "product" in lowered or "offer" in lowered:
            return True
    return False


def _local(term: str) -> str:
    return term.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]


def extract_rdfa(tree, base_url: str | None) -> list[dict]:
    items: dict = {}
    roots: list[dict] = []
    for element in _NODES(tree):
        subject = None
        for ancestor in element.iterancestors():
            if ancestor in items:
                subject = items[ancestor]
                break
        properties = [_local(p) for p in element.get("property", "").split()]
        if element.get("typeof") is not None:
            node = {"@type": [_local(t) for t in element.get("typeof").split()] or ["Thing"]}
            if element.get("resource"):
                node["@id"] = element.get("resource")
            items[element] = node
            value = node
            if not properties or subject is None:
                roots.append(node)
        else:
            value = _value(element, base_url)
        if subject is not None:
            for name in properties:
                existing = subject.get(name)
                if existing is None:
                    subject[name] = value
                elif isinstance(existing, list):
                    existing.append(value)
                else:
                    subject[name] = [existing, value]
    return roots


def _value(element, base_url):
    if element.get("content") is not None:
        return element.get("content")
    for attribute in ("resource", "href", "src"):
        if element.get(attribute) and (attribute == "resource" or _URL_TAGS.get(element.tag) == attribute):
            return absolute_url(element.get(attribute), base_url) or element.get(attribute)
    return " ".join(_TEXT(element).split())
