"""Chamber-run local platforms: one site hosting many shops, read with the chamber's selectors.

The chamber declares in ``sources.yaml`` (``platform:`` block, see
:class:`crawler.registry.PlatformConfig`) where the listings are, which links lead to
product pages, how to reach the next listing page and, on each product page, which
shop sells it. Product fields come from the page's schema.org/OpenGraph markup when it
has some (:func:`crawler.extract.extract_page`), and from the chamber's ``fields:``
selectors otherwise. A new platform needs YAML, not Python.
"""

from __future__ import annotations

from parsel import Selector

from crawler.adapters import absolute, gtin, product, without_tracking
from crawler.extract import extract_page, parse_price
from crawler.extract.availability import normalise_availability
from crawler.extract.text import clean_text
from crawler.registry import PlatformConfig

kind = "platform"


def select(page: Selector, selector: str | None) -> list[str]:
    """Texts/attributes a CSS selector or an XPath picks, stripped, empty ones dropped."""
    if not selector:
        return []
    found = page.xpath(selector) if selector.startswith(("/", "(")) else page.css(selector)
    values = []
    for item in found:
        value = item.get() if isinstance(item.root, str) else item.xpath("normalize-space(string())").get()
        if value and value.strip():
            values.append(value.strip())
    return values


def listing(html: str | bytes, url: str, config: PlatformConfig) -> tuple[list[str], str | None]:
    """Product page URLs on a listing page, and the next listing page (None on the last)."""
    page = Selector(text=html.decode("utf-8", "replace") if isinstance(html, bytes) else html, base_url=url)
    links = []
    for href in select(page, config.product_links):
        link = absolute(href, url)
        link = without_tracking(link) if link else None
        if link and link not in links:
            links.append(link)
    following = select(page, config.next_page)
    next_url = absolute(following[0], url) if following else None
    return links, (next_url if next_url != url else None)


def product_page(html: str | bytes, url: str, config: PlatformConfig) -> tuple[dict | None, dict]:
    """The product a platform page sells and the shop selling it (``{"name", "url"}``)."""
    text = html.decode("utf-8", "replace") if isinstance(html, bytes) else html
    page = Selector(text=text, base_url=url)
    shop_names = select(page, config.shop_name)
    shop_links = select(page, config.shop_link)
    shop = {
        "name": clean_text(shop_names[0]) if shop_names else None,
        "url": absolute(shop_links[0], url) if shop_links else None,
    }
    declared = next(iter(extract_page(html, url).products), None)
    chosen = {key: select(page, selector) for key, selector in config.fields.items()}
    picked = {key: values[0] for key, values in chosen.items() if values}
    if declared is None and not picked.get("name"):
        return None, shop
    base = dict(declared or product())
    if "price" in picked and base.get("price") is None:
        amount, currency = parse_price(picked["price"], picked.get("currency"))
        base["price"], base["currency"] = amount, currency or base.get("currency")
    if "availability" in picked and base.get("availability") in (None, "unknown"):
        base["availability"] = normalise_availability(picked["availability"]) or "unknown"
    for key in ("name", "description", "brand", "sku", "category"):
        if key in picked and not base.get(key):
            base[key] = picked[key]
    if "image" in picked and not base.get("image"):
        base["image"] = absolute(picked["image"], url)
    if "gtin" in picked and not base.get("gtin"):
        base["gtin"] = gtin(picked["gtin"])
    base["url"] = base.get("url") or url
    return product(**{k: v for k, v in base.items() if k != "type"}), shop
