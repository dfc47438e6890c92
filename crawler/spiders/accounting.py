"""Failure accounting shared by every spider: the run manifest's ``errors`` by kind."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crawler.errors import failure_kind
from crawler.records import build_shop

FAILED_URLS_KEPT = 10  # per kind of error: enough to see a pattern, small enough for every manifest


class PageAccounting:
    """Counts failed pages by kind and still records the shop when its home page fails.

    Mixed into spiders that have ``source``, ``run_id``, ``crawler`` and ``logger``.
    """

    def home_failed(self, failure) -> Iterable[Any]:
        self.page_failed(failure)
        yield build_shop(self.source, self.run_id, [])

    def page_failed(self, failure) -> None:
        """Count a page that could not be read, by kind (``http_500``, ``timeout``... see crawler.errors)."""
        kind = failure_kind(failure)
        if kind is None:
            return  # refused by robots.txt or left offsite: counted by those components
        self.logger.warning("page failed (%s): %s", kind, failure.request.url)
        self._count_error(kind)
        # A few failing addresses per kind, for the manifest: the dashboard shows a chamber which pages.
        samples = self.crawler.stats.get_value("emplettes/failed_urls") or {}
        urls = samples.setdefault(kind, [])
        if len(urls) < FAILED_URLS_KEPT:
            urls.append(failure.request.url)
        self.crawler.stats.set_value("emplettes/failed_urls", samples)

    def _count_error(self, kind: str) -> None:
        self.crawler.stats.inc_value("emplettes/page_errors")
        self.crawler.stats.inc_value(f"emplettes/page_errors/{kind}")
