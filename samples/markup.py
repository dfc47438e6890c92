"""Small writers shared by the themes: prices as shops print them, JSON-LD as platforms
serialise it, schema.org shop markup, and sitemap XML."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

from markupsafe import Markup

from samples.catalogue import ShopSpec

NNBSP = "\u202f"  # narrow no-break space: the French thousands separator
NBSP = "\u00a0"

# schema.org availability names; WooCommerce says BackOrder where others say PreOrder.
SCHEMA_AVAILABILITY = {"in_stock": "InStock", "out_of_stock": "OutOfStock", "preorder": "PreOrder"}
AVAILABILITY_LABEL = {
    "in_stock": "En stock",
    "out_of_stock": "Rupture de stock",
    "preorder": "Sur commande",
    "unknown": "",
}
_DAYS = {
    "Mo": "Monday",
    "Tu": "Tuesday",
    "We": "Wednesday",
    "Th": "Thursday",
    "Fr": "Friday",
    "Sa": "Saturday",
    "Su": "Sunday",
}
_JOURS = {
    "Mo": "lundi",
    "Tu": "mardi",
    "We": "mercredi",
    "Th": "jeudi",
    "Fr": "vendredi",
    "Sa": "samedi",
    "Su": "dimanche",
}


# ---- prices ---------------------------------------------------------------------------


def euros(amount: Decimal, thousands: str = NNBSP) -> str:
    """``Decimal("1299")`` -> ``"1 299,00 €"`` as French shops print it."""
    whole, cents = f"{amount:.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", thousands)
    return f"{grouped},{cents}{NBSP}€"


def comma_decimal(amount: Decimal, short: bool = False) -> str:
    """``"24,90"``; with ``short`` the shortest form a hand-typed field holds: ``"12,5"``, ``"35"``."""
    text = f"{amount:.2f}"
    if short:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",")


# ---- JSON-LD --------------------------------------------------------------------------


def json_ld(data: object, *, escape_slashes: bool = False, indent: int | None = None) -> Markup:
    """JSON safe inside ``<script>``: ``<``, ``>`` and ``&`` as ``\\u`` escapes (so a product
    named ``<script>…`` stays inert); PHP platforms also escape every ``/`` as ``\\/``."""
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    if escape_slashes:
        text = text.replace("/", "\\/")
    return Markup(text)


def php_entities(value: object) -> object:
    """What a CMS that runs ``htmlspecialchars`` before ``json_encode`` puts in its JSON-LD."""
    if isinstance(value, str):
        return (
            value.replace("&", "&amp;")
            .replace('"', "&quot;")
            .replace("'", "&#039;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
        )
    if isinstance(value, dict):
        return {k: php_entities(v) for k, v in value.items()}
    if isinstance(value, list):
        return [php_entities(v) for v in value]
    return value


def with_trailing_commas(json_text: str) -> str:
    """Indented JSON with a comma after the last member of every object and array."""
    return re.sub(r"([^\s{\[,])(\n\s*[}\]])", r"\1,\2", json_text)


# ---- shops ----------------------------------------------------------------------------


def opening_hours_specification(hours: tuple[str, ...]) -> list[dict]:
    specs = []
    for line in hours:
        days, times = line.split()
        first, _, last = days.partition("-")
        keys = list(_DAYS)
        span = keys[keys.index(first) : keys.index(last or first) + 1]
        opens, closes = times.split("-")
        specs.append(
            {
                "@type": "OpeningHoursSpecification",
                "dayOfWeek": [_DAYS[d] for d in span],
                "opens": opens,
                "closes": closes,
            }
        )
    return specs


def hours_in_french(hours: tuple[str, ...]) -> list[str]:
    """``"Tu-Sa 09:30-19:00"`` -> ``"du mardi au samedi, 9 h 30 – 19 h"``."""

    def clock(t: str) -> str:
        h, m = t.split(":")
        return f"{int(h)} h {m}" if m != "00" else f"{int(h)} h"

    out = []
    for line in hours:
        days, times = line.split()
        first, _, last = days.partition("-")
        when = f"du {_JOURS[first]} au {_JOURS[last]}" if last else f"le {_JOURS[first]}"
        opens, closes = times.split("-")
        out.append(f"{when}, {clock(opens)} – {clock(closes)}")
    return out


def local_business(shop: ShopSpec, url: str, image: str, *, hours_as_text: bool = False) -> dict:
    """The shop's own schema.org markup (home and contact pages)."""
    node = {
        "@context": "https://schema.org",
        "@type": shop.business_type,
        "@id": url + "#shop",
        "name": shop.name,
        "description": shop.description,
        "url": url,
        "image": image,
        "telephone": shop.telephone,
        "priceRange": "€€",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": shop.address,
            "addressLocality": shop.town,
            "postalCode": shop.postcode,
            "addressRegion": "Centre-Val de Loire",
            "addressCountry": "FR",
        },
        "geo": {"@type": "GeoCoordinates", "latitude": shop.lat, "longitude": shop.lon},
    }
    if hours_as_text:
        node["openingHours"] = list(shop.hours)
    else:
        node["openingHoursSpecification"] = opening_hours_specification(shop.hours)
    return node


# ---- sitemaps -------------------------------------------------------------------------

_LASTMOD = "2025-11-{day:02d}T08:{minute:02d}:00+01:00"


def lastmod(n: int) -> str:
    return _LASTMOD.format(day=1 + n % 28, minute=n % 60)


def sitemap_index(urls: list[str]) -> str:
    items = "".join(
        f"<sitemap><loc>{xml_escape(u)}</loc><lastmod>{lastmod(i)}</lastmod></sitemap>" for i, u in enumerate(urls)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>\n'
    )


def urlset(entries: list[tuple[str, str | None, str | None]]) -> str:
    """``entries``: (page URL, image URL or None, image title or None)."""
    rows = []
    for i, (loc, image, title) in enumerate(entries):
        img = ""
        if image:
            img = (
                f"<image:image><image:loc>{xml_escape(image)}</image:loc>"
                f"<image:title>{xml_escape(title or '')}</image:title></image:image>"
            )
        rows.append(
            f"<url><loc>{xml_escape(loc)}</loc><lastmod>{lastmod(i)}</lastmod><changefreq>daily</changefreq>{img}</url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">\n' + "\n".join(rows) + "\n</urlset>\n"
    )
