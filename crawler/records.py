"""From what a page declares to the indexer's records: attribution to the shop, ids, dates.

The registry is the chamber's word and wins for the shop's identity (name, town, services);
the shop's own markup fills what the registry left out (telephone, opening hours, geo).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from crawler.registry import Source
from indexer.records import ProductRecord, ShopRecord, product_id


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _same_site(url: str, host: str) -> bool:
    """Does ``url`` belong to the shop's host (``www.`` or a subdomain counts)?"""
    other = (urlsplit(url).hostname or "").removeprefix("www.")
    host = host.removeprefix("www.")
    return bool(other) and (other == host or other.endswith("." + host) or host.endswith("." + other))


def build_shop(source: Source, run_id: str, declared: list[dict]) -> dict:
    """The shop record of a run: registry fields, completed by the first declared shop."""
    found = next((s for s in declared if s.get("name")), {})
    given = source.geo if source.geo and not source.geo_is_town_centre else None
    lat = given.lat if given else found.get("lat")
    lon = given.lon if given else found.get("lon")
    if (lat is None or lon is None) and source.geo:  # the town's centre, when nothing is more precise
        lat, lon = source.geo.lat, source.geo.lon
    record = ShopRecord(
        id=source.id,
        source_id=source.id,
        run_id=run_id,
        source_url=source.url,
        name=source.name,
        url=source.url,
        address=source.address or found.get("address"),
        postcode=source.postcode,
        town=source.town,
        lat=lat if lat is not None and lon is not None else None,
        lon=lon if lat is not None and lon is not None else None,
        telephone=source.telephone or found.get("telephone"),
        opening_hours=found.get("opening_hours") or [],
        categories=source.categories,
        services=source.services or [],
        last_seen=_now(),
    )
    return record.model_dump(mode="json")


def build_product(source: Source, run_id: str, product: dict, *, page_url: str) -> dict | None:
    """A product record attributed to ``source``; ``None`` when the page declared no usable name.

    A product URL that leaves the shop's site (a marketplace canonical, a tracking host) is
    replaced by the page the crawler actually read: the portal only ever links to the shop.
    """
    name = (product.get("name") or "").strip()
    if not name:
        return None
    host = urlsplit(source.url).hostname or ""
    url = product.get("url") or page_url
    if not _same_site(url, host):
        url = page_url
    image = product.get("image")
    if image and not image.startswith(("http://", "https://")):
        image = None
    now = _now()
    record = ProductRecord(
        id=product_id(source.id, url, product.get("sku"), name),
        source_id=source.id,
        run_id=run_id,
        source_url=source.url,
        shop_id=source.id,
        shop_name=source.name,
        shop_url=source.url,
        town=source.town,
        postcode=source.postcode,
        lat=source.geo.lat if source.geo else None,
        lon=source.geo.lon if source.geo else None,
        categories=source.categories,
        services=source.services or [],
        name=name[:500],
        description=product.get("description"),
        brand=product.get("brand"),
        category=product.get("category"),
        sku=product.get("sku"),
        gtin=product.get("gtin"),
        price=product.get("price"),
        price_high=product.get("price_high"),
        currency=product.get("currency"),
        availability=product.get("availability") or "unknown",
        url=url,
        image=image,
        store_code=product.get("store_code"),
        pickup_method=product.get("pickup_method"),
        pickup_sla=product.get("pickup_sla"),
        first_seen=now,
        last_seen=now,
    )
    return record.model_dump(mode="json")
