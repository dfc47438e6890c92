"""Microdata items as JSON-LD-shaped dicts.

extruct's microdata extractor spends most of its time building the text of
``itemprop`` elements through lxml's Cleaner and html-text (a deep copy of the
subtree per property; docs/benchmarks.md has the cost). Property text only needs the
visible characters, so that one step is replaced by an XPath over text nodes.
"""

from __future__ import annotations

import lxml.etree
from extruct.w3cmicrodata import MicrodataExtractor

from crawler.extract.text import collapse_whitespace

# script/style hold only text, so checking the parent is enough (and, unlike
# an ancestor:: test, does not cost the depth of the tree per text node)
_VISIBLE_TEXT = lxml.etree.XPath("descendant-or-self::text()[not(parent::script or parent::style)]")
NODE_KEY = "_html_node"


def visible_text(node) -> str:
    return collapse_whitespace("".join(_VISIBLE_TEXT(node)))


class FastMicrodataExtractor(MicrodataExtractor):
    def _extract_textContent(self, node):
        return visible_text(node)

    def _extract_property_value(self, node, items_seen, base_url, itemids, force=False):
        # An item without properties gets its text as value; for a WebPage
        # scope on <body> that is the whole page, read for nothing.
        if force and (node.tag in ("html", "body") or len(node) > 10) and node.get("content") is None:
            return ""
        return super()._extract_property_value(node, items_seen, base_url, itemids, force=force)


def extract_microdata(tree, base_url: str | None) -> list[dict]:
    """Top-level microdata items converted to ``{"@type": ..., prop: value}`` dicts."""
    items = FastMicrodataExtractor(add_html_node=True).extract_items(tree, base_url=base_url)
    return [_to_node(item) for item in items]


def _to_node(item: dict) -> dict:
    node: dict = {}
    if item.get("type"):
        node["@type"] = item["type"]
    if item.get("id"):
        node["@id"] = item["id"]
    properties = item.get("properties")
    if properties:
        for name, value in properties.items():
            node[name] = _to_value(value)
    elif item.get("value"):
        # <meta itemprop=brand itemscope itemtype=Brand content="X">: the item is its own value
        node["name"] = item["value"]
    if item.get("htmlNode") is not None:
        node[NODE_KEY] = item["htmlNode"]
    return node


def _to_value(value):
    if isinstance(value, list):
        return [_to_value(v) for v in value]
    if isinstance(value, dict) and ("properties" in value or "type" in value or "value" in value):
        return _to_node(value)
    return value
