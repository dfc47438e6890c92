"""JSON-LD scripts, read leniently.

Real pages wrap JSON-LD in ``/*<![CDATA[*/ ... /*]]>*/`` or HTML comments,
leave trailing commas and comments, or put raw newlines inside strings.
extruct's extractor gives up on the whole page at the first bad script; this
one tries strict JSON, then cleans the wrappers, then json5, per script.
"""

from __future__ import annotations

import json
import re

import json5
import lxml.etree
from extruct.jsonld import JsonLdExtractor

_WRAPPERS = re.compile(
    r"^\s*(?:/\*\s*<!\[CDATA\[\s*\*/|<!\[CDATA\[|<!--|//\s*<!\[CDATA\[)|(?:/\*\s*\]\]>\s*\*/|\]\]>|-->|//\s*\]\]>)\s*$"
)
_LINE_COMMENT = re.compile(r"^\s*//[^\n]*$", re.MULTILINE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def loads_lenient(text: str) -> object | None:
    """Parse almost-JSON; None when it cannot be read at all."""
    try:
        return json.loads(text, strict=False)
    except ValueError:
        pass
    cleaned = _WRAPPERS.sub("", text.strip())
    cleaned = _WRAPPERS.sub("", cleaned.strip())
    try:
        return json.loads(cleaned, strict=False)
    except ValueError:
        pass
    cleaned = _LINE_COMMENT.sub("", cleaned)
    try:
        # trailing commas are the usual hand-edited-template defect; json5
        # handles them too but rejects raw newlines inside strings
        return json.loads(_TRAILING_COMMA.sub(r"\1", cleaned), strict=False)
    except ValueError:
        pass
    try:
        return json5.loads(cleaned)
    except Exception:  # json5 raises assorted errors on garbage
        return None


class LenientJsonLdExtractor(JsonLdExtractor):
    """extruct's JSON-LD extractor with per-script lenient parsing."""

    # type="application/ld+json" in any letter case, with stray spaces
    _xp_jsonld = lxml.etree.XPath(
        "descendant-or-self::script[contains(translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', "
        "'abcdefghijklmnopqrstuvwxyz'), 'application/ld+json')]"
    )

    def _extract_items(self, node):
        data = loads_lenient(node.xpath("string()"))
        if isinstance(data, list):
            yield from (item for item in data if isinstance(item, dict))
        elif isinstance(data, dict):
            yield data
