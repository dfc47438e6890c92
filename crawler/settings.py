"""Scrapy settings: politeness by default, components wired here and nowhere else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emplettes.config import Config


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
        "DOWNLOAD_TIMEOUT": 20,
        "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 2 * 1024 * 1024,
        "REDIRECT_MAX_TIMES": 5,
        "RETRY_TIMES": 2,
        "DEPTH_LIMIT": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Recrawls revalidate with ETag / Last-Modified instead of downloading again.
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",
        "HTTPCACHE_DIR": str((config.data_dir / "httpcache").resolve()),
        "HTTPCACHE_GZIP": True,
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.PrivateAddressGuard": 50},
        "ITEM_PIPELINES": {"crawler.pipelines.DropDuplicateProducts": 100},
        "EXTENSIONS": {"crawler.extensions.RunManifest": 500},
        "FEED_EXPORT_ENCODING": "utf-8",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "%(asctime)s [%(name)s] %(levelname)s: %(message)s",
    }
    settings.update(overrides)
    return settings


def feed_for(run_file: Path) -> dict[str, Any]:
    """Scrapy feed export of one run file: JSON Lines, written as items arrive."""
    return {run_file.resolve().as_uri(): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}
