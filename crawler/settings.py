"""Scrapy settings: politeness by default, components wired here and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config import Config
from indexer.images import images_dir


def crawl_settings(config: Config, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "BOT_NAME": "emplettes",
        "USER_AGENT": config.user_agent,
        "ROBOTSTXT_OBEY": True,
        # Polite to small shops: one or two requests at a time per host, adaptive delay.
        "CONCURRENT_REQUESTS": 32,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 2,
        "DOWNLOAD_DELAY": config.crawl_delay,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": config.crawl_delay or 0.05,
        "AUTOTHROTTLE_MAX_DELAY": 30.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": config.download_timeout,
        # Applies to the body as received *and*, in HttpCompressionMiddleware, to its
        # decompressed size: a gzip bomb is abandoned once it inflates past the limit.
        "DOWNLOAD_MAXSIZE": config.download_maxsize,
        "DOWNLOAD_WARNSIZE": min(2 * 1024 * 1024, config.download_maxsize),
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        # Retry-After on 429/503 is honoured up to this many seconds; longer, the page fails.
        "EMPLETTES_RETRY_AFTER_MAX": 300,
        # 429/5xx without Retry-After are retried after 1 s, then 2 s (crawler.middlewares.RetryAfter).
        "EMPLETTES_RETRY_BACKOFF": 1.0,
        # One source's run ends (as "closespider_timeout", a partial run) after this long.
        "CLOSESPIDER_TIMEOUT": config.crawl_time_limit,
        "DEPTH_LIMIT": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 opens a code-execution HTTP endpoint per crawler (token-protected, on
        # localhost, job files in the home directory): not on a production crawler.
        "REMOTE_CONTROL_ENABLED": False,
        # Recrawls revalidate with ETag / Last-Modified instead of downloading again.
        "HTTPCACHE_ENABLED": True,
        # ...but redirects are never replayed from the cache (crawler.middlewares.RecrawlCachePolicy).
        "HTTPCACHE_POLICY": "crawler.middlewares.RecrawlCachePolicy",
        "HTTPCACHE_DIR": str((config.data_dir / "httpcache").resolve()),
        "HTTPCACHE_GZIP": True,
        # Private answers are refused where the connection is made, too (DNS rebinding).
        "TWISTED_DNS_RESOLVER": "crawler.netguard.GuardedResolver",
        "EMPLETTES_PRIVATE_HOSTS": [],  # hosts of allow_private sources (crawler.run)
        "DOWNLOADER_MIDDLEWARES": {
            "crawler.middlewares.PrivateAddressGuard": 50,
            # process_response runs from high to low: before RetryMiddleware (550).
            "crawler.middlewares.RetryAfter": 560,
            # Loops and over-long chains of redirects fail the page that started them.
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawler.middlewares.CountedRedirects": 600,
        },
        "ITEM_PIPELINES": {"crawler.pipelines.DropDuplicateProducts": 100, "crawler.images.ProductImages": 200},
        # Product images fetched, checked and stored for the portal to serve (crawler.images).
        "EMPLETTES_IMAGES_DIR": str(images_dir(config.data_dir).resolve()),
        # SharedQueueWorker is off unless REDIS_URL shares the request queue (crawler.distributed).
        "EXTENSIONS": {"crawler.extensions.RunManifest": 500, "crawler.distributed.SharedQueueWorker": 510},
        "FEED_EXPORT_ENCODING": "utf-8",
        # Each record reaches the run file as it is scraped: a killed crawl loses none.
        "FEED_STORAGES": {"file": "crawler.extensions.UnbufferedRunFile", "": "crawler.extensions.UnbufferedRunFile"},
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "%(asctime)s [%(name)s] %(levelname)s: %(message)s",
    }
    settings.update(overrides)
    return settings


def feed_for(run_file: Path) -> dict[str, Any]:
    """Scrapy feed export of one run file: JSON Lines, written as items arrive."""
    return {run_file.resolve().as_uri(): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}
