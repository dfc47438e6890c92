"""schema.org nodes (from any syntax) into product and shop records.

Input nodes are JSON-LD-shaped dicts: JSON-LD as declared, microdata and RDFa
converted by their readers, OpenGraph mapped onto a Product. Everything that
real pages get wrong about the vocabulary (letter case of types and
properties, ``id`` for ``@id``, offers hidden in ``priceSpecification``,
variants, products nested in ratings) is absorbed here, so the rest of the
package only sees clean records.
"""

from __future__ import annotations

import re
from decimal import Decimal

from crawler.extract import availability as av
from crawler.extract.hours import normalise_opening_hours
from crawler.extract.microdata import NODE_KEY, visible_text
from crawler.extract.prices import format_amount, normalise_currency, parse_declared_price, parse_price
from crawler.extract.text import clean_text, first, looks_like_template
from crawler.extract.urls import absolute_url

PRODUCT_TYPES = {"product", "productgroup", "individualproduct", "productmodel", "someproducts"}
OFFER_TYPES = {"offer", "aggregateoffer"}
# LocalBusiness subtypes shops actually use; anything named *Store/*Shop also counts.
SHOP_TYPES = {
    "localbusiness",
    "store",
    "organization",
    "corporation",
    "onlinestore",
    "onlinebusiness",
    "restaurant",
    "bakery",
    "cafeorcoffeeshop",
    "barorpub",
    "winery",
    "brewery",
    "foodestablishment",
    "florist",
    "pharmacy",
    "optician",
    "library",
    "healthandbeautybusiness",
    "beautysalon",
    "hairsalon",
    "dayspa",
    "homeandconstructionbusiness",
    "automotivebusiness",
    "autorepair",
    "professionalservice",
    "sportsactivitylocation",
    "exercisegym",
    "lodgingbusiness",
    "hotel",
    "entertainmentbusiness",
    "artgallery",
    "medicalbusiness",
    "dentist",
    "travelagency",
    "emergencyservice",
    "financialservice",
    "legalservice",
    "realestateagent",
    "childcare",
    "drycleaningorlaundry",
    "animalshelter",
    "selfstorage",
    "tattooparlor",
    "recyclingcenter",
}
_LIST_PRICE_TYPES = ("listprice", "strikethroughprice", "srp", "msrp", "invoiceprice", "minimumadvertisedprice")
_GTIN_KEYS = ("gtin", "gtin13", "gtin14", "gtin12", "gtin8", "isbn")
_SKIP_KEYS = {NODE_KEY, "@context"}
_PRICE_IN_TEXT = re.compile(r"(?:[€$£]\s?\d[\d\s.,]*\d|\d[\d\s.,]*\d\s?(?:€|EUR|\$|£))")


# -- access helpers -----------------------------------------------------------


def prop(node: dict, name: str):
    """Property value, tolerant of letter case: ``pricecurrency`` (microdata
    typos) and ``Offers``/``Availability`` (Wix) read as the schema.org names."""
    value = node.get(name)
    if value is None:
        value = node.get(name.lower())
        if value is None:
            value = node.get(name[:1].upper() + name[1:])
    return value


def type_names(node: dict) -> set[str]:
    """Lower-cased local type names: ``http://schema.org/Product`` and ``product`` alike."""
    types = node.get("@type") or node.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        return set()
    return {
        t.rsplit("/", 1)[-1].rsplit("#", 1)[-1].rsplit(":", 1)[-1].strip().lower() for t in types if isinstance(t, str)
    }


def is_product(node: dict) -> bool:
    return bool(type_names(node) & PRODUCT_TYPES)


def is_shop(node: dict) -> bool:
    return any(t in SHOP_TYPES or t.endswith(("store", "shop")) for t in type_names(node))


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Graph:
    """The nodes of one page, with ``@id`` references resolvable.

    ProductGroups refer to their images and variants by ``@id``
    (``{"@id": "#image-1"}``); bestseller.com even writes ``id``.
    """

    def __init__(self, roots: list):
        self.roots = roots
        self.by_id: dict[str, dict] = {}
        self._index(roots, 0)

    def _index(self, value, depth):
        if depth > 40:
            return
        if isinstance(value, list):
            for item in value:
                self._index(item, depth + 1)
        elif isinstance(value, dict):
            identifier = value.get("@id") or value.get("id")
            if isinstance(identifier, str) and len(value) > 1 and identifier not in self.by_id:
                self.by_id[identifier] = value
            for key, item in value.items():
                if key not in _SKIP_KEYS and isinstance(item, (dict, list)):
                    self._index(item, depth + 1)

    def deref(self, value):
        if isinstance(value, dict) and len(value) == 1:
            identifier = value.get("@id") or value.get("id")
            if isinstance(identifier, str):
                return self.by_id.get(identifier, value)
        return value

    def values(self, node: dict, name: str) -> list:
        return [self.deref(v) for v in as_list(prop(node, name))]

    def find(self, predicate, stop_at_products: bool = True) -> list[dict]:
        """Nodes matching ``predicate`` anywhere (``@graph``, ItemList, itemReviewed...).

        The walk does not enter products: what hangs under a product (variants,
        "related" products, the seller) belongs to it, not to the page.
        """
        found: list[dict] = []
        seen: set[int] = set()

        def walk(value, depth):
            if depth > 40:
                return
            if isinstance(value, list):
                for item in value:
                    walk(item, depth + 1)
            elif isinstance(value, dict):
                if id(value) in seen:
                    return
                seen.add(id(value))
                if predicate(value):
                    found.append(value)
                if stop_at_products and is_product(value):
                    return
                for key, item in value.items():
                    if key not in _SKIP_KEYS and isinstance(item, (dict, list)):
                        walk(item, depth + 1)

        walk(self.roots, 0)
        return found


# -- products -----------------------------------------------------------------


def _offer_price(offer: dict, graph: Graph) -> tuple[Decimal | None, str | None]:
    currency = prop(offer, "priceCurrency")
    price = prop(offer, "price")
    if isinstance(price, list):
        price = first(price)
    if price in (None, "", {}) or isinstance(price, dict):
        price = prop(offer, "lowPrice")
    if price in (None, "", {}) or isinstance(price, (dict, list)):
        price = None
        # price only in priceSpecification; skip list/strikethrough prices
        for spec in graph.values(offer, "priceSpecification"):
            if not isinstance(spec, dict):
                continue
            kind = str(prop(spec, "priceType") or "").rsplit("/", 1)[-1].lower()
            if kind in _LIST_PRICE_TYPES:
                continue
            candidate = prop(spec, "price")
            if candidate not in (None, "", {}) and not isinstance(candidate, (dict, list)):
                price = candidate
                currency = currency or prop(spec, "priceCurrency")
                break
    currency = first(currency)
    amount, parsed_currency = parse_declared_price(price, currency if isinstance(currency, str) else None)
    return amount, normalise_currency(currency) or parsed_currency


def _offer_high_price(offer: dict) -> tuple[Decimal | None, str | None]:
    """An AggregateOffer's ``highPrice`` (the dearest of its offers), when declared."""
    high = first(prop(offer, "highPrice"))
    if high in (None, "", {}) or isinstance(high, (dict, list)):
        return None, None
    currency = first(prop(offer, "priceCurrency"))
    amount, parsed_currency = parse_declared_price(high, currency if isinstance(currency, str) else None)
    return amount, normalise_currency(currency) or parsed_currency


def highest_price(
    candidates: list[tuple[Decimal, str | None]], price: Decimal | None, currency: str | None
) -> Decimal | None:
    """The dearest offer in ``price``'s currency, when it is dearer than ``price``.

    Offers in another currency are not comparable, so they never make a range; an
    offer without a currency is taken to be in the product's currency.
    """
    if price is None:
        return None
    same = [a for a, c in candidates if a is not None and a >= 0 and (c is None or currency is None or c == currency)]
    high = max(same, default=None)
    return high if high is not None and high > price else None


def _offers(node: dict, graph: Graph) -> list[dict]:
    """Offers of a product, AggregateOffer children included."""
    offers = []
    for offer in graph.values(node, "offers"):
        if not isinstance(offer, dict):
            continue
        offers.append(offer)
        offers.extend(child for child in graph.values(offer, "offers") if isinstance(child, dict))
    return offers


def _maybe_cents(amount) -> bool:
    return amount is not None and amount >= 100 and amount == amount.to_integral_value()


def _fix_shopify_cents(amount, currency, html_node):
    """Shopify themes that print ``{{ price }}`` instead of ``{{ price | money }}``
    declare cents (``4995`` for €49,95), often with the shop's base currency.
    Only corrected when the item's own visible text shows the amount / 100."""
    if html_node is None or not _maybe_cents(amount):
        return amount, currency
    target = amount / 100
    for match in _PRICE_IN_TEXT.finditer(visible_text(html_node)):
        visible, visible_currency = parse_price(match.group(0))
        if visible is not None and visible == target:
            return target, visible_currency or currency
    return amount, currency


def product_record(node: dict, graph: Graph, base: str | None, syntax: str, is_shopify=lambda: False) -> dict:
    """One schema.org Product (or ProductGroup) as a raw record.

    The record keeps ``Decimal`` prices and private keys (``_declared_url``,
    ``_syntax``) that ``page.py`` uses to merge and choose; ``finalise`` turns
    it into the public product dict.
    """
    html_node = node.get(NODE_KEY)
    offers = _offers(node, graph)
    variants = [v for v in graph.values(node, "hasVariant") if isinstance(v, dict)]
    priced = []
    states = []
    currencies = []
    highs = []
    for offer in offers:
        amount, currency = _offer_price(offer, graph)
        high, high_currency = _offer_high_price(offer)
        if syntax == "microdata" and _maybe_cents(amount) and is_shopify():
            amount, currency = _fix_shopify_cents(amount, currency, html_node)
            if high is not None:
                high, high_currency = _fix_shopify_cents(high, high_currency, html_node)
        if amount is not None:
            priced.append((amount, currency))
        if high is not None:
            highs.append((high, high_currency))
        if currency:
            currencies.append(currency)
        states.append(av.normalise_availability(prop(offer, "availability")))
    if not priced:
        # parent without offers (hasVariant / ProductGroup): price from the variants
        for variant in variants:
            for offer in _offers(variant, graph):
                amount, currency = _offer_price(offer, graph)
                high, high_currency = _offer_high_price(offer)
                if amount is not None:
                    priced.append((amount, currency))
                if high is not None:
                    highs.append((high, high_currency))
                if currency:
                    currencies.append(currency)
                states.append(av.normalise_availability(prop(offer, "availability")))
    if not any(states):
        states.append(av.normalise_availability(prop(node, "availability")))
    priced = [(a, c) for a, c in priced if a >= 0]
    price, currency = min(priced, key=lambda pair: pair[0]) if priced else (None, None)
    currency = currency or (currencies[0] if currencies else None)
    price_high = highest_price(priced + highs, price, currency)

    def from_offers(name):
        for offer in offers:
            value = clean_text(prop(offer, name))
            if value:
                return value
        return None

    image = next((u for u in (absolute_url(graph.deref(i), base) for i in as_list(prop(node, "image"))) if u), None)
    if image is None:
        image = next(
            (u for u in (absolute_url(graph.deref(i), base) for o in offers for i in as_list(prop(o, "image"))) if u),
            None,
        )
    declared_url = absolute_url(prop(node, "url"), base)
    offer_url = next((u for u in (absolute_url(prop(o, "url"), base) for o in offers) if u), None)
    gtin = next((g for g in (_identifier(prop(n, key)) for n in (node, *offers) for key in _GTIN_KEYS) if g), None)
    brand = clean_text(graph.deref(first(prop(node, "brand"))))
    if brand and ": " in brand:
        # label text caught in the markup: "Ver mais artigos da Marca: Panasonic"
        brand = brand.rsplit(": ", 1)[1].strip() or None
    return {
        "type": "product",
        "name": clean_text(prop(node, "name")),
        "price": price,
        "price_high": price_high,
        "currency": currency,
        "availability": av.combine(states),
        "url": declared_url,
        "image": image,
        "description": clean_text(prop(node, "description")),
        "brand": brand,
        "sku": _identifier(prop(node, "sku")) or _identifier(prop(node, "productID")) or from_offers("sku"),
        "gtin": gtin,
        "category": _category(prop(node, "category")),
        "_declared_url": declared_url,
        "_offer_url": offer_url,
        "_syntax": syntax,
        "_has_offer_data": bool(priced or any(states) or currencies),
    }


def _identifier(value) -> str | None:
    value = first(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = clean_text(value)
    return text or None


def _category(value) -> str | None:
    value = first(value)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@id")
    return clean_text(value)


def is_real_product(record: dict) -> bool:
    """False for rich-snippet pseudo-products (a category page declaring a
    Product with just a name and star rating, or an empty offer)."""
    return bool(record["_has_offer_data"] or record["sku"] or record["gtin"] or record["_declared_url"])


def finalise_product(record: dict) -> dict:
    out = {key: value for key, value in record.items() if not key.startswith("_")}
    out["price"] = format_amount(record["price"]) if isinstance(record["price"], Decimal) else record["price"]
    # Only products with several prices carry a high one (the shape stays the same otherwise).
    high = out.pop("price_high", None)
    if isinstance(high, Decimal):
        out["price_high"] = format_amount(high)
    return out


# -- shops ----------------------------------------------------------------------

_POSTCODE_TOWN = re.compile(r"^(?P<postcode>\d{4,5})\s+(?P<town>\D.*)$")  # FR/DE/IT: "75001 Paris"
_TOWN_POSTCODE = re.compile(r"^(?P<town>\D+?)(?:\s+[A-Z]{2,3})?\s+(?P<postcode>\d{4,5}(?:-\d{4})?)$")  # AU/US


def _split_free_address(text: str) -> dict:
    """Street / postcode / town from an address typed as one string with newlines."""
    lines = [line.strip(" ,") for line in re.split(r"[\n\r]+|<br\s*/?>", text) if line.strip(" ,")]
    result = {"street": lines[0] if lines else None, "postcode": None, "town": None}
    for line in lines[1:]:
        match = _POSTCODE_TOWN.match(line) or _TOWN_POSTCODE.match(line)
        if match:
            result["postcode"] = match.group("postcode")
            result["town"] = match.group("town").strip(" ,")
            break
    return result


def _coordinate(value) -> float | None:
    value = first(value)
    try:
        number = float(str(value).strip().replace(",", "."))
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) <= 180 else None


def _contact_telephone(node: dict, graph: Graph) -> str | None:
    for contact in graph.values(node, "contactPoint"):
        if isinstance(contact, dict) and clean_text(prop(contact, "telephone")):
            return clean_text(prop(contact, "telephone"))
    return None


def shop_record(node: dict, graph: Graph, base: str | None) -> dict | None:
    """A LocalBusiness-like node as a shop, or None when it has no usable location
    (template nodes with empty or ``[%=CITY%]`` addresses)."""
    name = clean_text(prop(node, "name")) or clean_text(prop(node, "legalName"))
    address = graph.deref(first(prop(node, "address")))
    street = postcode = town = None
    if isinstance(address, dict):
        street = clean_text(prop(address, "streetAddress"))
        postcode = _identifier(prop(address, "postalCode"))
        town = clean_text(prop(address, "addressLocality"))
    elif isinstance(address, str) and not looks_like_template(address):
        parts = _split_free_address(address)
        street, postcode, town = (clean_text(parts["street"]), parts["postcode"], clean_text(parts["town"]))
    geo = graph.deref(first(prop(node, "geo")))
    lat = lon = None
    if isinstance(geo, dict):
        lat, lon = _coordinate(prop(geo, "latitude")), _coordinate(prop(geo, "longitude"))
    if not name or not (street or postcode or town or (lat is not None and lon is not None)):
        return None
    hours = [h for h in as_list(prop(node, "openingHours")) if isinstance(h, str)]
    specs = [s for s in graph.values(node, "openingHoursSpecification") if isinstance(s, dict)]
    return {
        "type": "shop",
        "name": name,
        "url": absolute_url(prop(node, "url"), base),
        "address": street,
        "postcode": postcode,
        "town": town,
        "lat": lat,
        "lon": lon,
        "telephone": clean_text(prop(node, "telephone")) or _contact_telephone(node, graph),
        "opening_hours": normalise_opening_hours(
            hours, [(prop(s, "dayOfWeek"), prop(s, "opens"), prop(s, "closes")) for s in specs]
        ),
    }
