"""Pure extraction functions: page markup in, product and shop dicts out.

No I/O here: spiders fetch, these functions read. See ``page.extract_page``.
"""

from crawler.extract.page import PageExtraction, extract_page
from crawler.extract.prices import parse_price

__all__ = ["PageExtraction", "extract_page", "parse_price"]
