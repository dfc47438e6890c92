"""Rate limiting of the JSON API (``/api/...``) per client: a token bucket per address.

Each client may make ``API_RATE_BURST`` requests at once, then ``API_RATE_LIMIT`` (e.g.
``120/minute``) on average; past that it gets a 429 with a JSON error and ``Retry-After``.
The HTML pages are not limited: they are what residents use, and an address may be a whole
mobile network behind carrier NAT. The exceptions are the pages that list every shop
(``/boutiques``, ``/sitemap.xml``): a resident reads a few of them a minute, a client asking
for them in a loop slows everyone's searches (issue 18), so each client gets
``DIRECTORY_RATE_LIMIT`` of them (up to 60 at once), then a French 429 page. The client
is the socket's peer, or what a proxy listed in ``TRUSTED_PROXIES`` forwarded (see :mod:`portal.proxies`).

The buckets live in each server process. Under ``emplettes serve --workers N`` a client's
connections are spread over the workers, so it may get up to N times the limit: divide
the setting by N, or limit at the reverse proxy when an exact shared limit matters.
A hand-made bucket rather than Flask-Limiter: this is all the limiting the portal needs
and its in-memory storage would be per process just the same (sharing needs Redis).
"""

from __future__ import annotations

import ipaddress
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, jsonify, render_template, request

EXTENSION = "emplettes.ratelimit"
DIRECTORY_EXTENSION = "emplettes.ratelimit.directory"
DIRECTORY_PAGES = frozenset({"/boutiques", "/sitemap.xml"})
REFUSALS_EXTENSION = "emplettes.ratelimit.refusals"
PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
OFF = {"", "0", "off", "none", "false", "no"}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.I)


@dataclass(frozen=True)
class Rate:
    """``count`` requests per ``period`` seconds on average, ``burst`` at once."""

    count: int
    period: float
    burst: int

    @property
    def per_second(self) -> float:
        return self.count / self.period


def parse_rate(limit: str, burst: str | int = "", *, name: str = "API_RATE_LIMIT") -> Rate | None:
    """``"120/minute"`` (also ``120 per minute``, ``10/30second``) -> Rate; None when off.

    The burst defaults to one period's worth of requests, capped at 60.
    """
    if limit.strip().lower() in OFF:
        return None
    match = _RATE.match(limit)
    if not match:
        raise ValueError(f"{name}: expected e.g. '120/minute', got {limit!r}")
    count, multiple, unit = int(match[1]), int(match[2] or 1), match[3].lower()
    if count <= 0 or multiple <= 0:
        return None
    try:
        burst_value = int(burst) if str(burst).strip() else min(count, 60)
    except ValueError:
        burst_value = 0
    if burst_value < 1:
        raise ValueError(f"API_RATE_BURST: expected a positive integer, got {burst!r}")
    return Rate(count=count, period=multiple * PERIODS[unit], burst=burst_value)


class TokenBuckets:
    """One bucket of ``rate.burst`` tokens per key, refilled at ``rate.per_second``.

    Memory stays bounded: a bucket that has refilled completely is the same as none, so
    those are dropped on a sweep, and past ``max_keys`` the least recently seen go first.
    """

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000):
        self.rate = rate
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)
        self._lock = threading.Lock()
        self._swept = clock()

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.rate.burst, now))
        return min(self.rate.burst, tokens + (now - at) * self.rate.per_second)

    def take(self, key: str) -> float:
        """Spend one token for ``key``: 0.0 when allowed, else the seconds until one is there."""
        with self._lock:
            now = self.clock()
            tokens = self._level(key, now)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                self._buckets.move_to_end(key)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate.per_second
            if now - self._swept > self.rate.period:
                self._sweep(now)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
            return wait

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key in [k for k in self._buckets if self._level(k, now) >= self.rate.burst]:
            del self._buckets[key]
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)


def client_key(address: str | None) -> str:
    """The bucket of an address: itself for IPv4, its /64 for IPv6 (one subscriber's
    machine can take any address of its /64, so per-address buckets would not limit it)."""
    if address and ":" in address:
        try:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        except ValueError:
            pass
    return address or "unknown"


def is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def limit_api():
    """``before_request`` hook: a 429 instead of the view when the client's bucket is empty."""
    if not is_api(request.path):
        return None
    wait = current_app.extensions[EXTENSION].take(client_key(request.remote_addr))
    if not wait:
        return None
    retry_after = max(1, math.ceil(wait))
    response = jsonify(error="too many requests: slow down and retry later", retry_after=retry_after)
    response.status_code = 429
    response.headers["Retry-After"] = str(retry_after)
    return response


def limit_directory():
    """``before_request`` hook: the pages listing every shop, ``DIRECTORY_RATE_LIMIT`` per client."""
    if request.path not in DIRECTORY_PAGES:
        return None
    wait = current_app.extensions[DIRECTORY_EXTENSION].take(client_key(request.remote_addr))
    if not wait:
        return None
    from portal.i18n import _

    # Rendered once per page and kept: a refusal must cost less than what it refuses.
    refusals = current_app.extensions.setdefault(REFUSALS_EXTENSION, {})
    key = (request.path, request.script_root)
    if key not in refusals:
        refusals[key] = render_template("error.html", title=_("Trop de demandes"), code=429)
    return refusals[key], 429, {"Retry-After": str(max(1, math.ceil(wait)))}


def init_app(app: Flask, limit: str, burst: str | int = "", directory_limit: str = "off") -> None:
    """Limit ``/api/`` per client at ``limit`` (``API_RATE_LIMIT``) and the directory pages at
    ``directory_limit`` (``DIRECTORY_RATE_LIMIT``); ``off`` disables either."""
    directory = parse_rate(directory_limit, name="DIRECTORY_RATE_LIMIT")
    if directory is not None:
        app.extensions[DIRECTORY_EXTENSION] = TokenBuckets(directory)
        app.before_request(limit_directory)
    rate = parse_rate(limit, burst)
    if rate is None:
        return
    app.extensions[EXTENSION] = TokenBuckets(rate)
    app.before_request(limit_api)
