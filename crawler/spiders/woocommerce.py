"""WooCommerce shops: the home page (shop), then the public Store API.

A full pull reads every page (``X-WP-TotalPages`` known from the first one, the others
asked at once; the per-host concurrency limit keeps it polite). When a recent full pull
exists, the run is incremental: only products modified since the last good run are asked
for (``after`` + ``date_column=modified``, WooCommerce 8+; an older shop ignores them and
answers everything, which is still right), and the others are carried over from that run.
Deletions are caught by counting: if the shop's total (``X-WP-Total`` of a one-product
probe) differs from what the merge would give, the run falls back to a full pull. A full
pull also happens at least weekly, and whenever an incremental page fails.

The Store API is read under the REST root the home page announces (``Link: <…/wp-json/>;
rel="https://api.w.org/"``), so a shop installed in a sub-folder is read where it is.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Request
from scrapy.http import Response

from crawler.adapters import MalformedPayload, woocommerce
from crawler.recrawl import SAFETY_MARGIN, PreviousRun, carry
from crawler.spiders.api import ApiSpider

FULL_PULL_EVERY = timedelta(days=7)


class WooCommerceSpider(ApiSpider):
    name = "woocommerce"
    kind = "woocommerce"
    mode = "full"

    rest_root: str | None = None

    async def start(self) -> AsyncIterator[Any]:
        # The home page first: it names the shop and announces the REST root the API is under.
        yield self.home_request()

    def parse_home(self, response: Response, **_: Any) -> Iterable[Any]:
        yield from super().parse_home(response)
        headers = {"Link": ", ".join(v.decode("latin-1") for v in response.headers.getlist("Link"))}
        self.rest_root = woocommerce.rest_root(
            response.body if hasattr(response, "text") else None, headers, response.url
        )
        yield from self.begin()

    def home_failed(self, failure) -> Iterable[Any]:
        yield from super().home_failed(failure)
        yield from self.begin()

    def begin(self) -> Iterable[Any]:
        self.mode = "full"
        self.previous = self._previous_run()
        if self.previous is not None:
            self.mode = "incremental"
            # The shop's whole count, to tell whether products were withdrawn since then.
            probe = woocommerce.products_url(self.home_url, root=self.rest_root, per_page=1)
            if self.may_fetch():
                yield Request(probe, callback=self.parse_total, errback=self.incremental_failed)
                return
        yield from self.full_pull()

    # -- full pull --------------------------------------------------------------------------

    def full_pull(self) -> Iterable[Request]:
        self.mode = "full"
        if self.may_fetch():
            yield Request(
                woocommerce.first_request(self.home_url, root=self.rest_root),
                callback=self.parse_products,
                errback=self.page_failed,
                cb_kwargs={"page": 1},
                dont_filter=True,
            )

    def parse_products(self, response: Response, page: int) -> Iterable[Any]:
        total = woocommerce.total_pages(response.headers.get("X-WP-TotalPages"))
        try:
            result = woocommerce.parse(response.body, self.home_url, page=page, total_pages=total, root=self.rest_root)
        except MalformedPayload as exc:
            self.malformed(response, exc)
            result = None
        if result is not None:
            yield from self.records(result.products, response)
        if page != 1:
            return
        if total is not None:
            for number in range(2, total + 1):
                if not self.may_fetch():
                    break
                yield Request(
                    woocommerce.products_url(self.home_url, number, root=self.rest_root),
                    callback=self.parse_products,
                    errback=self.page_failed,
                    cb_kwargs={"page": number},
                    dont_filter=True,
                )
        elif result is not None and result.next_url:
            yield from self._sequential(result.next_url, 2)

    def _sequential(self, url: str, page: int) -> Iterable[Request]:
        if self.may_fetch():
            yield Request(url, callback=self.parse_unpaged, errback=self.page_failed, cb_kwargs={"page": page})

    def parse_unpaged(self, response: Response, page: int) -> Iterable[Any]:
        try:
            result = woocommerce.parse(response.body, self.home_url, page=page, root=self.rest_root)
        except MalformedPayload as exc:
            self.malformed(response, exc)
            return
        yield from self.records(result.products, response)
        if result.next_url:
            yield from self._sequential(result.next_url, page + 1)

    # -- incremental pull -----------------------------------------------------------------------

    def parse_total(self, response: Response) -> Iterable[Any]:
        header = response.headers.get("X-WP-Total")
        self.shop_total = woocommerce.total_pages(header)  # same integer parsing
        if self.shop_total is None:
            yield from self.full_pull()
            return
        since = (self.previous.started - SAFETY_MARGIN).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        self.modified_after = since
        self.changed: list[dict] = []
        yield from self._incremental_page(1)

    def _incremental_page(self, page: int) -> Iterable[Request]:
        if self.may_fetch():
            yield Request(
                woocommerce.products_url(self.home_url, page, self.modified_after, root=self.rest_root),
                callback=self.parse_changed,
                errback=self.incremental_failed,
                cb_kwargs={"page": page},
            )

    def parse_changed(self, response: Response, page: int) -> Iterable[Any]:
        total = woocommerce.total_pages(response.headers.get("X-WP-TotalPages"))
        try:
            result = woocommerce.parse(
                response.body,
                self.home_url,
                page=page,
                total_pages=total,
                modified_after=self.modified_after,
                root=self.rest_root,
            )
        except MalformedPayload as exc:
            self.malformed(response, exc)
            self.logger.warning("incremental pull failed: full pull instead")
            yield from self.full_pull()
            return
        for record in self.records(result.products, response):
            before = self.previous.by_url.get(record["url"])
            if before and before[0].get("first_seen"):
                record["first_seen"] = before[0]["first_seen"]  # changed, not new
            self.changed.append(record)
            yield record
        if result.next_url:
            yield from self._incremental_page(page + 1)
            return
        changed = {record["url"] for record in self.changed}
        kept = [r for url, records in self.previous.by_url.items() if url not in changed for r in records]
        if len(changed) + len({r["url"] for r in kept}) != self.shop_total:
            self.logger.info(
                "%d products changed, but the shop's count differs (%d): full pull", len(changed), self.shop_total
            )
            yield from self.full_pull()
            return
        self.crawler.stats.inc_value("emplettes/unchanged_products", len(kept))
        yield from carry(kept, self.run_id, self.source)

    def incremental_failed(self, failure) -> Iterable[Request]:
        self.page_failed(failure)
        yield from self.full_pull()

    # -- when was the last full pull -------------------------------------------------------------

    def _state_path(self) -> Path | None:
        manifest = self.crawler.settings.get("EMPLETTES_MANIFEST")
        return Path(manifest).parent / ".woocommerce-full-pull" if manifest else None

    def _previous_run(self) -> PreviousRun | None:
        """The last good run, if a full pull happened within a week (else: a full pull now)."""
        state = self._state_path()
        try:
            last_full = datetime.fromisoformat(json.loads(state.read_text())["at"]) if state else None
        except (OSError, ValueError, KeyError, TypeError):
            last_full = None
        if last_full is None or datetime.now(UTC) - last_full > FULL_PULL_EVERY:
            return None
        previous = PreviousRun.load(state.parent, self.run_id)
        return previous if previous is not None and previous.by_url else None

    def closed(self, reason: str) -> None:
        super().closed(reason)
        stats = self.crawler.stats
        if self.mode == "full" and reason == "finished" and not stats.get_value("emplettes/page_errors"):
            state = self._state_path()
            if state is not None:
                state.write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "run_id": self.run_id}))
