"""Pure formatting of what residents read: prices, availability, services, safe links.

No Flask here, so the rules are unit-tested directly. Everything crawled is treated as
hostile: :func:`safe_url` is the only way a crawled URL reaches an ``href`` or ``src``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from indexer.records import price_high_kept
from portal.i18n import _, ngettext

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
    "gift_vouchers": "Chèques cadeaux locaux acceptés",
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
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation:  # beyond the decimal context: not a price anyone charges
        return ""
    # Two decimals (12,50 € for 12.5 or 12.500); more only when they matter (0,125 €).
    value = cents if cents == value else value.normalize()
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


def price_label(price: object, price_high: object = None, currency: str | None = "EUR") -> str:
    """``12,50 €``, or ``à partir de 12,50 €`` when the product has dearer offers too."""
    text = format_price(price, currency)  # type: ignore[arg-type]
    if not text:
        return ""
    try:
        ranged = price_high is not None and price_high_kept(Decimal(str(price)), Decimal(str(price_high))) is not None
    except (InvalidOperation, ValueError):
        ranged = False
    return _("à partir de %(price)s", price=text) if ranged else text


def parse_time(value: object) -> datetime | None:
    """An aware UTC datetime from a record's ISO time (``...Z`` or an offset), else ``None``."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # records are written in UTC
    return moment.astimezone(UTC)


def freshness(last_seen: object, now: datetime, *, price: bool = True) -> str:
    """How long ago a crawl last read this offer: ``prix vérifié il y a 3 h``.

    ``now`` is injected so the rule is tested without a clock. A time in the future (clock
    skew between the crawler and the portal) reads as "just now"; no time, no text.
    """
    moment = parse_time(last_seen)
    if moment is None:
        return ""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    seconds = (now - moment).total_seconds()
    minutes, hours, days = int(seconds // 60), int(seconds // 3600), int(seconds // 86400)
    if minutes < 1:
        ago = _("à l'instant")
    elif hours < 1:
        ago = ngettext("il y a %(num)s min", "il y a %(num)s min", minutes)
    elif days < 1:
        ago = ngettext("il y a %(num)s h", "il y a %(num)s h", hours)
    elif days < 60:
        ago = ngettext("il y a %(num)s jour", "il y a %(num)s jours", days)
    else:
        ago = ngettext("il y a %(num)s mois", "il y a %(num)s mois", days // 30)
    return _("prix vérifié %(ago)s", ago=ago) if price else _("vérifié %(ago)s", ago=ago)


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


RADIUS_CHOICES_KM: tuple[int, ...] = (1, 5, 10, 25)


def radius_label(km: object) -> str:
    """``1 km``, ``2,5 km``: a radius as the picker shows it."""
    try:
        value = float(km)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if value != value or value <= 0:
        return ""
    return (f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")) + " km"


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
