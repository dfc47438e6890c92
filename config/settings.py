"""Configuration from environment variables: the one place where every setting is named.

Each setting has a default that works for the demo on one machine; a region overrides
them in its service manager's environment. ``emplettes --help`` prints this table.

This package is the bottom layer: ``crawler``, ``indexer``, ``portal`` and ``emplettes``
all import it, so it imports none of them (tests/test_layers.py checks it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.i18n import _

# The release, as in pyproject.toml; the crawler's User-Agent and `emplettes --version` show it.
VERSION = "0.1.0"

# name -> (default, description); documented in docs/configuration.md and `emplettes --help`.
SETTINGS: dict[str, tuple[str, str]] = {
    "DATA_DIR": ("data", "run files, search index and state"),
    "SOURCES_FILE": ("sources.yaml", "the registry of shop sources"),
    "EMPLETTES_LANG": ("", "language of the command line and the portal (a compiled catalogue; empty: French)"),
    "PORT": ("8000", "port of the portal (serve, demo)"),
    "HOST": ("127.0.0.1", "address the portal listens on"),
    "SEARCH_BACKEND": ("tantivy", "embedded 'tantivy' or 'elasticsearch'"),
    "ELASTICSEARCH_URL": ("", "Elasticsearch URL when SEARCH_BACKEND=elasticsearch"),
    "ELASTICSEARCH_API_KEY": ("", "Elasticsearch API key (base64 'id:key' as Kibana shows it)"),
    "ELASTICSEARCH_USERNAME": ("", "Elasticsearch basic-auth user (when no API key)"),
    "ELASTICSEARCH_PASSWORD": ("", "Elasticsearch basic-auth password"),
    "ELASTICSEARCH_CA_CERTS": ("", "CA certificate file (PEM) of the Elasticsearch cluster"),
    "ELASTICSEARCH_INDEX": ("emplettes", "Elasticsearch alias (and index name prefix) of the records"),
    "SYNONYMS_FILE": ("", "synonyms file for search (default: the bundled indexer/synonyms_fr.txt)"),
    "CONTACT_URL": ("https://github.com/emplettes/emplettes", "contact URL sent in the crawler's User-Agent"),
    "MAX_ERROR_RATIO": ("0.2", "a run with more failed pages than this keeps older records"),
    "CRAWL_DELAY": ("0.5", "minimum seconds between two requests to one shop (AutoThrottle may wait longer)"),
    "DOWNLOAD_TIMEOUT": ("20", "seconds before one request is abandoned"),
    "DOWNLOAD_MAXSIZE": ("10485760", "largest response in bytes, after decompression (10 MB)"),
    "CRAWL_TIME_LIMIT": ("3600", "seconds one source's crawl may last; the scheduler kills it 60 s later"),
    "CRAWL_CONCURRENCY": ("2", "crawls the scheduler runs at the same time"),
    "SCHEDULE_JITTER": ("1800", "seconds by which each scheduled start is spread at random"),
    "RUNS_KEEP": ("10", "run files kept per source by the scheduler (plus any the index still needs)"),
    "REINDEX_SCHEDULE": (
        "",
        (
            "when the scheduler rebuilds the whole index from the run files, which compacts it ('daily' = 03:00, "
            "'weekly', 'every 12h', a cron line; empty: never)"
        ),
    ),
    "REDIS_URL": (
        "",
        "distributed crawling: workers share each source's request queue in this Redis (needs [distributed])",
    ),
    "CRAWL_ROUND": (
        "",
        "distributed crawling: the id all workers of one crawl round share (default: today's UTC date)",
    ),
    "API_RATE_LIMIT": ("120/minute", "requests per client to /api/ on average (per server process; 'off' disables)"),
    "API_RATE_BURST": ("60", "requests per client to /api/ allowed at once before API_RATE_LIMIT applies"),
    "DIRECTORY_RATE_LIMIT": (
        "60/minute",
        (
            "requests per client to the pages listing every shop (/boutiques, /sitemap.xml), per server process; "
            "'off' disables"
        ),
    ),
    "PUBLIC_URL": (
        "",
        "public base URL of the portal for canonical links and the sitemap (default: the request's host)",
    ),
    "MAP_TILE_URL": (
        "",
        "map tile URL template, e.g. https://tile.example/{z}/{x}/{y}.png (empty: the bundled map of the region)",
    ),
    "OFFLINE_MAP_FILE": (
        "",
        (
            "contours drawn under the shops without MAP_TILE_URL: a file built by `python -m portal.mapdata "
            "--region ...` (empty: the bundled Centre-Val de Loire; 'off': markers on a plain background)"
        ),
    ),
    "MAP_ATTRIBUTION": ("", "credit shown under maps, as plain text (e.g. '© les contributeurs OpenStreetMap')"),
    "CLICK_COUNT_LIMIT": (
        "20/hour",
        (
            "clicks one client adds to one shop's count through /go/ (kept in memory only; more still redirect, "
            "uncounted; 'off': count all)"
        ),
    ),
    "TRUSTED_PROXIES": (
        "",
        "reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-* headers are believed",
    ),
    "SEARCH_CACHE_SIZE": (
        "4096",
        (
            "searches (facet counts and page of results) each portal process keeps for when they come again "
            "(tantivy; about 17 kB each, 4096 ≈ 70 MB; 0: none)"
        ),
    ),
    "SEARCH_THREADS": (
        "2",
        (
            "threads one search counts its facets with (tantivy: a search with a ticked facet or many matches "
            "runs its counts side by side on a second core; 1: one thread)"
        ),
    ),
    "RESPONSE_CACHE_SECONDS": (
        "60",
        (
            "seconds a portal process reuses its answer to a repeated search (results page and /api/search, up to"
            " SEARCH_CACHE_SIZE answers, at the same index generation; 0: never)"
        ),
    ),
    "HSTS_MAX_AGE": (
        "0",
        "seconds of Strict-Transport-Security sent on HTTPS responses (0: none; set once HTTPS is permanent)",
    ),
    "SECRET_KEY": (
        "",
        "key signing the dashboard's session cookies and forms (default: generated once into DATA_DIR/secret_key)",
    ),
    "SESSION_HOURS": ("8", "hours a dashboard session lasts after logging in"),
    "LOGIN_RATE_LIMIT": ("5/15minute", "dashboard login attempts per account and per client address"),
    "MIRROR_RATE_LIMIT": ("10/hour", "shop checks per client on /ma-boutique ('off' disables)"),
    "MIRROR_TIME_BUDGET": ("20", "seconds one /ma-boutique check may take in all"),
    "MIRROR_PAGES": ("5", "pages of a shop's site one /ma-boutique check reads at most"),
}


class ConfigError(ValueError):
    """A setting's value cannot be used; the message names the setting and the value."""


def _env(name: str) -> str:
    return os.environ.get(name, SETTINGS[name][0])


def _number(name: str, kind: type[int] | type[float], empty: int | float | None = None) -> Any:
    value = _env(name)
    if not value.strip() and empty is not None:
        return empty
    try:
        return kind(value)
    except ValueError:
        message = (
            _("%(name)s=%(value)r n'est pas un nombre entier", name=name, value=value)
            if kind is int
            else _("%(name)s=%(value)r n'est pas un nombre", name=name, value=value)
        )
        raise ConfigError(message) from None


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR")))
    sources_file: Path = field(default_factory=lambda: Path(_env("SOURCES_FILE")))
    language: str = field(default_factory=lambda: _env("EMPLETTES_LANG"))
    port: int = field(default_factory=lambda: _number("PORT", int))
    host: str = field(default_factory=lambda: _env("HOST"))
    search_backend: str = field(default_factory=lambda: _env("SEARCH_BACKEND"))
    elasticsearch_url: str = field(default_factory=lambda: _env("ELASTICSEARCH_URL"))
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL"))
    crawl_round: str = field(default_factory=lambda: _env("CRAWL_ROUND"))
    elasticsearch_api_key: str = field(default_factory=lambda: _env("ELASTICSEARCH_API_KEY"))
    elasticsearch_username: str = field(default_factory=lambda: _env("ELASTICSEARCH_USERNAME"))
    elasticsearch_password: str = field(default_factory=lambda: _env("ELASTICSEARCH_PASSWORD"))
    elasticsearch_ca_certs: str = field(default_factory=lambda: _env("ELASTICSEARCH_CA_CERTS"))
    elasticsearch_index: str = field(default_factory=lambda: _env("ELASTICSEARCH_INDEX"))
    contact_url: str = field(default_factory=lambda: _env("CONTACT_URL"))
    max_error_ratio: float = field(default_factory=lambda: _number("MAX_ERROR_RATIO", float))
    crawl_delay: float = field(default_factory=lambda: _number("CRAWL_DELAY", float))
    download_timeout: float = field(default_factory=lambda: _number("DOWNLOAD_TIMEOUT", float))
    download_maxsize: int = field(default_factory=lambda: _number("DOWNLOAD_MAXSIZE", int))
    crawl_time_limit: float = field(default_factory=lambda: _number("CRAWL_TIME_LIMIT", float))
    crawl_concurrency: int = field(default_factory=lambda: _number("CRAWL_CONCURRENCY", int))
    schedule_jitter: int = field(default_factory=lambda: _number("SCHEDULE_JITTER", int))
    runs_keep: int = field(default_factory=lambda: _number("RUNS_KEEP", int))
    reindex_schedule: str = field(default_factory=lambda: _env("REINDEX_SCHEDULE"))
    api_rate_limit: str = field(default_factory=lambda: _env("API_RATE_LIMIT"))
    api_rate_burst: str = field(default_factory=lambda: _env("API_RATE_BURST"))
    directory_rate_limit: str = field(default_factory=lambda: _env("DIRECTORY_RATE_LIMIT"))
    click_count_limit: str = field(default_factory=lambda: _env("CLICK_COUNT_LIMIT"))
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL"))
    map_tile_url: str = field(default_factory=lambda: _env("MAP_TILE_URL"))
    offline_map_file: str = field(default_factory=lambda: _env("OFFLINE_MAP_FILE"))
    map_attribution: str = field(default_factory=lambda: _env("MAP_ATTRIBUTION"))
    trusted_proxies: str = field(default_factory=lambda: _env("TRUSTED_PROXIES"))
    hsts_max_age: int = field(default_factory=lambda: _number("HSTS_MAX_AGE", int, 0))
    search_cache_size: int = field(default_factory=lambda: _number("SEARCH_CACHE_SIZE", int, 0))
    response_cache_seconds: float = field(default_factory=lambda: _number("RESPONSE_CACHE_SECONDS", float, 0))
    search_threads: int = field(default_factory=lambda: max(1, _number("SEARCH_THREADS", int, 1)))
    secret_key: str = field(default_factory=lambda: _env("SECRET_KEY"))
    session_hours: float = field(default_factory=lambda: _number("SESSION_HOURS", float))
    login_rate_limit: str = field(default_factory=lambda: _env("LOGIN_RATE_LIMIT"))
    mirror_rate_limit: str = field(default_factory=lambda: _env("MIRROR_RATE_LIMIT"))
    mirror_time_budget: float = field(default_factory=lambda: _number("MIRROR_TIME_BUDGET", float))
    mirror_pages: int = field(default_factory=lambda: _number("MIRROR_PAGES", int))

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def state_db(self) -> Path:
        return self.data_dir / "state.sqlite3"

    @property
    def crawl_requests_dir(self) -> Path:
        """One file per source a chamber asked to crawl now; the scheduler takes them."""
        return self.data_dir / "scheduler" / "requests"

    @property
    def user_agent(self) -> str:
        return f"emplettes/{VERSION} (+{self.contact_url})"


def settings_help() -> str:
    width = max(map(len, SETTINGS))
    return "\n".join(
        f"  {name.ljust(width)}  {desc} (default: {default or 'unset'})" for name, (default, desc) in SETTINGS.items()
    )
