"""The demo's catalogue (13 sample shops of ``samples/catalogue.yaml``) as the indexer
receives it after a good crawl: one shop record per shop, one product record per product
a polite crawler reaches (``samples.expected_products``), ids as the crawler computes them.

Built without crawling, so that search tests on the demo's words (issue 17's examples)
run on both backends in seconds; tests/test_end_to_end.py crawls the same shops for real.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from indexer.records import ProductRecord, ShopRecord, product_id
from samples import SHOPS, default_base_urls, expected_products

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
RUN = "20261120T090000Z-demo"


def demo_records() -> list[dict]:
    """Shop and product records of the demo, validated and JSON-ready."""
    base_urls = default_base_urls()
    shops = {spec.id: spec for spec in SHOPS}
    records: list[dict] = [
        ShopRecord(
            id=spec.id,
            source_id=spec.id,
            run_id=RUN,
            name=spec.name,
            url=base_urls[spec.id],
            address=spec.address,
            postcode=spec.postcode,
            town=spec.town,
            lat=spec.lat,
            lon=spec.lon,
            telephone=spec.telephone,
            categories=list(spec.categories),
            services=list(spec.services),
            description=spec.description,
            last_seen=NOW,
        ).model_dump(mode="json")
        for spec in SHOPS
    ]
    for number, product in enumerate(expected_products(base_urls)):
        spec = shops[product["shop_id"]]
        records.append(
            ProductRecord(
                **product,
                id=product_id(spec.id, product["url"]),
                source_id=spec.id,
                run_id=RUN,
                shop_name=spec.name,
                shop_url=base_urls[spec.id],
                town=spec.town,
                postcode=spec.postcode,
                lat=spec.lat,
                lon=spec.lon,
                categories=list(spec.categories),
                services=list(spec.services),
                first_seen=NOW - timedelta(days=number % 30),
                last_seen=NOW,
            ).model_dump(mode="json")
        )
    return records
