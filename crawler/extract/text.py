"""Plain-text clean-up shared by every syntax.

Structured data is untrusted page content: values may carry markup, HTML
entities (sometimes escaped twice inside JSON-LD), template leftovers and odd
whitespace. Everything that leaves this package goes through ``clean_text``.
"""

from __future__ import annotations

import html
import re

from w3lib.html import remove_tags, remove_tags_with_content

_WHITESPACE = re.compile(r"\s+")
# Unrendered template syntax seen on real shop pages: ``[%=CITY%]`` (Pottery
# Barn), ``<&=rating&>`` (Costco), ``{{ p.price }}`` / ``:content='p.price'``
# (Vue), ``$metabrand`` (Kiabi), ``${price}``.
_TEMPLATE = re.compile(r"\[%.*?%\]|<&.*?&>|\{\{.*?\}\}|\{%.*?%\}|<%.*?%>|^\$\{?[A-Za-z_]\w*\}?$")
_TAG_HINT = re.compile(r"<[a-zA-Z/!]")


def unescape(value: str) -> str:
    """Decode HTML entities, also when a CMS escaped them twice (``&amp;amp;``)."""
    for _ in range(3):
        if "&" not in value:
            break
        decoded = html.unescape(value)
        if decoded == value:
            break
        value = decoded
    return value


def collapse_whitespace(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def looks_like_template(value: str) -> bool:
    """True for placeholders a template engine forgot to fill in."""
    return bool(_TEMPLATE.search(value.strip()))


def clean_text(value: object) -> str | None:
    """Return ``value`` as one line of plain text, or None when it is empty.

    Tags are removed as data (a ``<script>`` in a product name is never kept,
    never interpreted), entities decoded, whitespace collapsed, and template
    placeholders rejected.
    """
    value = first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
        value = first(value)
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = unescape(str(value))
    if _TAG_HINT.search(text):
        text = remove_tags(remove_tags_with_content(text, ("script", "style")))
        text = unescape(text)
    # literal "\n" sequences left by double JSON encoding
    text = collapse_whitespace(text.replace("\\n", " ").replace("\\t", " "))
    if not text or looks_like_template(text):
        return None
    return text


def first(value: object) -> object:
    """First non-empty element of a list (JSON-LD and microdata repeat values)."""
    if isinstance(value, (list, tuple)):
        for item in value:
            if item not in (None, "", [], {}):
                return item
        return None
    return value
