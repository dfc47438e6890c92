"""Availability vocabulary: schema.org URLs, short forms and free text."""

from __future__ import annotations

import re

IN_STOCK = "in_stock"
OUT_OF_STOCK = "out_of_stock"
PREORDER = "preorder"
UNKNOWN = "unknown"

_TOKENS = {
    "instock": IN_STOCK,
    "limitedavailability": IN_STOCK,
    "onlineonly": IN_STOCK,
    "instoreonly": IN_STOCK,
    "available": IN_STOCK,
    "enstock": IN_STOCK,
    "disponible": IN_STOCK,
    "outofstock": OUT_OF_STOCK,
    "soldout": OUT_OF_STOCK,
    "discontinued": OUT_OF_STOCK,
    "oos": OUT_OF_STOCK,
    "unavailable": OUT_OF_STOCK,
    "outofstockonline": OUT_OF_STOCK,
    "indisponible": OUT_OF_STOCK,
    "épuisé": OUT_OF_STOCK,
    "epuise": OUT_OF_STOCK,
    "rupturedestock": OUT_OF_STOCK,
    "preorder": PREORDER,
    "presale": PREORDER,
    "backorder": PREORDER,
    "precommande": PREORDER,
    "précommande": PREORDER,
}
_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise_availability(value: object) -> str | None:
    """Map a declared availability to our four values; None if nothing usable.

    ``http://schema.org/InStock``, ``InStock``, ``in stock``, ``instock`` and
    ``in_stock`` are all the same statement written by different platforms.
    """
    if isinstance(value, (list, tuple)):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("@id") or value.get("name")
    if not isinstance(value, str):
        return None
    token = value.strip().rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1]
    token = _SEPARATORS.sub("", token.lower())
    return _TOKENS.get(token)


def combine(values: list[str | None]) -> str:
    """One availability for several offers/variants: in stock if any is."""
    for state in (IN_STOCK, PREORDER, OUT_OF_STOCK):
        if state in values:
            return state
    return UNKNOWN
