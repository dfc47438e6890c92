"""Downloader middlewares: each small, each switched on in crawler/settings.py."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.httpcache import RFC2616Policy

from crawler.netguard import RefusedAddress, check_url


class PrivateAddressGuard:
    """Drop requests (redirect targets included) to private addresses unless the source allows them.

    Redirects come back through the downloader middlewares as new requests, so a public
    page redirecting to 127.0.0.1 is caught here as well.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        allow = bool(getattr(self.crawler.spider, "allow_private", False))
        try:
            check_url(request.url, allow_private=allow)
        except RefusedAddress as exc:
            self.crawler.stats.inc_value("emplettes/refused_private_address")
            self.crawler.spider.logger.warning("%s", exc)
            raise IgnoreRequest(str(exc)) from exc
        return None


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    import time
    from email.utils import parsedate_to_datetime

    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryAfter:
    """Retry 429 and 5xx with back-off, and honour ``Retry-After``.

    Scrapy's RetryMiddleware retries those statuses at once; this one (before it in the
    response chain) retries them after a pause instead: ``Retry-After`` on 429/503 when
    the shop sends one (the whole host waits: the slot's next request is held back),
    else ``EMPLETTES_RETRY_BACKOFF`` × 2^n seconds (capped at 60). A ``Retry-After``
    longer than ``EMPLETTES_RETRY_AFTER_MAX`` is respected by not retrying at all: the
    page fails (``http_429``/``http_503``) and the next run tries again. Retries share
    RETRY_TIMES and RETRY_HTTP_CODES with RetryMiddleware, which still handles network
    errors (timeouts, lost connections) and gives up when the retries are spent.
    """

    RETRY_AFTER_STATUSES = (429, 503)

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.max_wait = settings.getfloat("EMPLETTES_RETRY_AFTER_MAX", 300)
        self.backoff = settings.getfloat("EMPLETTES_RETRY_BACKOFF", 1.0)
        self.max_retries = settings.getint("RETRY_TIMES", 2)
        self.codes = {int(code) for code in settings.getlist("RETRY_HTTP_CODES")}
        self.enabled = settings.getbool("RETRY_ENABLED", True)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request):
        not_before = request.meta.get("emplettes_not_before")
        if not_before:
            import time

            from scrapy.utils.defer import deferred_to_future
            from twisted.internet import reactor
            from twisted.internet.task import deferLater

            wait = not_before - time.monotonic()
            if wait > 0:  # waits here, outside the downloader: the host's slot stays free
                await deferred_to_future(deferLater(reactor, wait, lambda: None))
        return None

    def process_response(self, request, response):
        import time

        if not self.enabled or response.status not in self.codes or request.meta.get("dont_retry"):
            return response
        retries = request.meta.get("retry_times", 0)
        if retries >= self.max_retries:
            return response  # spent: RetryMiddleware gives up, the page fails
        asked = None
        if response.status in self.RETRY_AFTER_STATUSES and "Retry-After" in response.headers:
            asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is not None and asked > self.max_wait:
            self.crawler.spider.logger.info(
                "%s asks to wait %.0f s (Retry-After): left for the next run", request.url, asked
            )
            request.meta["dont_retry"] = True  # not hammering a shop that asked for an hour
            return response
        if asked is not None:
            wait = asked
            self.crawler.stats.inc_value("emplettes/retry_after")
            self.crawler.spider.logger.info("%s asks to wait %.0f s (Retry-After)", request.url, wait)
            self._pause_slot(request, wait)
        else:
            wait = min(60.0, self.backoff * 2**retries)
        self.crawler.stats.inc_value("emplettes/retry_http")
        retry = request.replace(dont_filter=True)
        retry.meta["retry_times"] = retries + 1
        retry.meta["emplettes_not_before"] = time.monotonic() + wait
        retry.priority = request.priority - 1
        return retry

    def _pause_slot(self, request, wait: float) -> None:
        """Hold back the host's other requests too (Scrapy's slot delay logic)."""
        from time import monotonic

        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is not None and slot.delay > 0:
            slot.lastseen = max(slot.lastseen, monotonic() + wait - slot.delay)


class CountedRedirects(RedirectMiddleware):
    """Scrapy's redirects, with each loop or over-long chain a failed page of every run.

    Scrapy drops a redirect whose target was requested before as a duplicate: product pages
    redirecting to each other then vanish without a word, and the run ends "ok" and may
    sweep. Here a redirect on the shop's own site is followed even to a page seen before
    (``dont_filter``), so the chain ends either on a page or, looping back on itself or
    past ``REDIRECT_MAX_TIMES``, as a ``redirect_loop`` error of the page that started it.
    """

    def _redirect(self, redirected, request, reason):
        chain = [*request.meta.get("redirect_urls", []), request.url]
        target = redirected.url.split("#", 1)[0]
        if target in (url.split("#", 1)[0] for url in chain):
            # "max redirections" is what crawler.errors reads as a redirect_loop
            raise IgnoreRequest(f"max redirections reached: {request.url} redirects back to {redirected.url}")
        followed = super()._redirect(redirected, request, reason)
        if _same_site(followed.url, chain[0]):  # off the site, the offsite rules still apply
            followed.dont_filter = True
        return followed


def _same_site(url: str, start: str) -> bool:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    origin = (urlsplit(start).hostname or "").removeprefix("www.")
    return bool(host) and (host == origin or host.endswith("." + origin))


class RecrawlCachePolicy(RFC2616Policy):
    """Scrapy's RFC 2616 cache policy (conditional requests on recrawls), minus redirects.

    RFC 2616 lets a 301 without expiry be reused for a year: one round of 301s from a shop
    in the middle of a change, and every later run replayed them instead of asking again.
    A redirect is never stored nor replayed (nor one stored before this policy): it costs
    one small request per recrawl and always says what the shop says today.
    """

    def should_cache_response(self, response, request) -> bool:
        return not _is_redirect(response) and super().should_cache_response(response, request)

    def is_cached_response_fresh(self, cachedresponse, request) -> bool:
        return not _is_redirect(cachedresponse) and super().is_cached_response_fresh(cachedresponse, request)

    def is_cached_response_valid(self, cachedresponse, response, request) -> bool:
        return not _is_redirect(cachedresponse) and super().is_cached_response_valid(cachedresponse, response, request)


def _is_redirect(response) -> bool:
    return 300 <= response.status < 400
