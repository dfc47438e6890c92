"""Pure formatting of what residents read: prices, availability, services, safe links.

No Flask here, so the rules are unit-tested directly. Everything crawled is treated as
hostile: :func:`safe_url` is the only way a crawled URL reaches an ``href`` or ``src``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from portal.i18n import _

CURRENCY_SYMBOLS = {"EUR": "€"}

# msgids, translated when called (so an installed catalogue takes effect).
AVAILABILITY_LABELS = {
    "in_stock": "En stock",
    "out_of_stock": "Rupture de stock",
    "preorder": "En précommande",
    "unknown": "Disponibilité non précisée",
}
SERVICE_LABELS = {
    "click_and_collect": "Retrait en boutique",
    "delivery": "Livraison",
    "gift_vouchers": "Chèques cadeaux locaux",
}
SORT_LABELS = {
    "relevance": "Pertinence",
    "price_asc": "Prix croissant",
    "price_desc": "Prix décroissant",
    "newest": "Nouveautés",
    "distance": "Distance",
}
FACET_LABELS = {
    "town": "Commune",
    "category": "Catégorie",
    "availability": "Disponibilité",
    "shop": "Boutique",
    "services": "Services",
}


def format_price(price: Decimal | str | int | float | None, currency: str | None = "EUR") -> str:
    """French price: ``12,50 €``, ``1 299,00 €``, ``12,50 USD``; ``""`` when unknown.

    Two decimals unless the shop declared more (``0,125 €`` per gram stays exact). The
    separators are plain spaces: templates wrap the price in ``<span class="price">``
    styled ``white-space: nowrap`` so it never breaks across lines.
    """
    if price is None or isinstance(price, bool):
        return ""
    try:
        value = Decimal(str(price).strip())
    except (InvalidOperation, ValueError):
        return ""
    if not value.is_finite():
        return ""
    if value.as_tuple().exponent >= -2:  # type: ignore[operator]
        value = value.quantize(Decimal("0.01"))
    else:
        value = value.normalize()
    sign = "-" if value < 0 else ""
    integer, _dot, fraction = format(abs(value), "f").partition(".")
    groups = []
    while len(integer) > 3:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    groups.insert(0, integer)
    number = sign + " ".join(groups) + ("," + fraction if fraction else "")
    code = (currency or "EUR").strip().upper()
    return f"{number} {CURRENCY_SYMBOLS.get(code, code)}"


def availability_label(availability: str | None) -> str:
    return _(AVAILABILITY_LABELS.get(availability or "unknown", AVAILABILITY_LABELS["unknown"]))


def availability_class(availability: str | None) -> str:
    """CSS modifier for the badge; never echoes crawled text into a class name."""
    return availability if availability in AVAILABILITY_LABELS else "unknown"


def service_label(service: str) -> str:
    return _(SERVICE_LABELS[service]) if service in SERVICE_LABELS else service


def facet_value_label(facet: str, value: str) -> str:
    """How a facet value reads: keys such as ``in_stock`` get their French label."""
    if facet == "availability":
        return availability_label(value)
    if facet == "services":
        return service_label(value)
    return value


def facet_label(facet: str) -> str:
    return _(FACET_LABELS[facet]) if facet in FACET_LABELS else facet


def sort_label(sort: str) -> str:
    return _(SORT_LABELS.get(sort, sort))


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else ``None``.

    Filters ``javascript:``, ``data:``, ``vbscript:``, protocol-relative and
    whitespace/control-character tricks (browsers strip those before parsing schemes).
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    if not url or len(url) > 4096 or _CONTROL.search(url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "\\" in parts.netloc:
        return None
    return url


def tel_href(telephone: object) -> str | None:
    """``tel:`` link from a displayed phone number (digits and a leading + only)."""
    if not isinstance(telephone, str):
        return None
    digits = re.sub(r"[^\d+]", "", telephone)
    digits = digits[:1] + digits[1:].replace("+", "")
    return f"tel:{digits}" if len(re.sub(r"\D", "", digits)) >= 4 else None


def shorten(text: object, limit: int = 180) -> str:
    """Plain text cut on a word boundary, with an ellipsis when cut."""
    if not isinstance(text, str):
        return ""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit + 1]  # one more character: a cut just before a space keeps the word
    cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
    return cut.rstrip(" ,;:.-") + "…"


def format_distance(km: object) -> str:
    """``0,8 km`` / ``12 km``; ``""`` when not a number."""
    try:
        value = float(km)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if value != value or value < 0:  # NaN or nonsense
        return ""
    if value < 10:
        return f"{value:.1f}".replace(".", ",") + " km"
    return f"{round(value):d} km"
