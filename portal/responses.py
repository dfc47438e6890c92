"""Finished answers to repeated searches, kept per process for a short while.

Residents repeat each other: "bougie", "miel", "cadeau" near the big towns make most of a
portal's traffic. Below the backend's own caches (facet counts and the page of results
per search), this keeps the whole answer of ``/recherche`` and ``/api/search`` (body,
gzipped when the browser accepts it, and headers) so a repeated search costs neither
the templates nor gzip again (docs/benchmarks.md has the saving).

An answer is only reused while the index is at the same generation (the backend's
``cache_token``: a commit or a reindex is seen at once) and for ``RESPONSE_CACHE_SECONDS``
at most, because pages say "prix vérifié il y a 3 h" against the clock. Backends without
a token (Elasticsearch: its own request cache) are not cached here. Only complete 200
answers to GET are kept; the rate limit, security headers and every other hook still
run on each request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, make_response, request

from portal.compression import MIN_SIZE, accepts_gzip, compress, is_compressible

EXTENSION = "emplettes.responses"
SKIPPED_HEADERS = {"content-length"}


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expires: float


class ResponseCache:
    """An LRU of :class:`Answer` by (token, URL, gzip or not), ``size`` entries at most."""

    def __init__(self, size: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.seconds = seconds
        self.clock = clock
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.seconds > 0

    def get(self, key: tuple) -> Answer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                return None
            if answer.expires <= self.clock():
                del self._answers[key]
                return None
            self._answers.move_to_end(key)
            return answer

    def put(self, key: tuple, status: int, headers: tuple, body: bytes) -> None:
        answer = Answer(status, headers, body, self.clock() + self.seconds)
        with self._lock:
            self._answers[key] = answer
            self._answers.move_to_end(key)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)

    def __len__(self) -> int:
        return len(self._answers)


def init_app(app: Flask, size: int, seconds: float) -> None:
    app.extensions[EXTENSION] = ResponseCache(size, seconds)


def cached(token: object, render: Callable[[], object]) -> Response:
    """The answer ``render()`` gives for this request, or the one it gave to the same URL
    at the same index ``token`` less than ``RESPONSE_CACHE_SECONDS`` ago."""
    cache: ResponseCache | None = current_app.extensions.get(EXTENSION)
    if cache is None or not cache.enabled or token is None or request.method != "GET":
        return make_response(render())
    gzip = accepts_gzip(request.headers.get("Accept-Encoding"))
    key = (token, request.url_root, request.path, request.query_string, gzip)
    answer = cache.get(key)
    if answer is not None:
        return Response(answer.body, status=answer.status, headers=list(answer.headers))
    response = make_response(render())
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "Set-Cookie" in response.headers
    ):
        return response
    if is_compressible(response.mimetype):
        response.vary.add("Accept-Encoding")
        # Compressed here, once, rather than by portal.compression on every request: it
        # leaves alone an answer that already has a Content-Encoding.
        if gzip and len(response.get_data()) >= MIN_SIZE:
            response.set_data(compress(response.get_data()))
            response.headers["Content-Encoding"] = "gzip"
    headers = tuple((name, value) for name, value in response.headers.items() if name.lower() not in SKIPPED_HEADERS)
    cache.put(key, response.status_code, headers, response.get_data())
    return response
