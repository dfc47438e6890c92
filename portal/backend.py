"""The search backend the portal reads from: injected, or opened read-only on first use.

Opening is lazy so the portal can start before the first crawl has built the index; until
the index can be opened, pages show "Le catalogue est en cours de constitution…" and the
next request tries again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import Flask, current_app

from config import Config
from indexer.search import BackendUnavailable, SearchBackend, open_backend

log = logging.getLogger(__name__)

EXTENSION = "emplettes"


@dataclass
class BackendState:
    config: Config
    backend: SearchBackend | None = None
    owned: bool = False  # opened by us (closed with the app), not injected
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> SearchBackend:
        if self.backend is not None:
            return self.backend
        with self.lock:
            if self.backend is None:
                try:
                    self.backend = open_backend(self.config, readonly=True)
                    self.owned = True
                except BackendUnavailable:
                    raise
                except Exception as exc:  # no index yet, unreadable directory, server down...
                    log.warning("search backend unavailable: %s", exc)
                    raise BackendUnavailable(str(exc)) from exc
        return self.backend


def init_app(app: Flask, config: Config, backend: SearchBackend | None) -> None:
    app.extensions[EXTENSION] = BackendState(config=config, backend=backend)


def get_backend() -> SearchBackend:
    return current_app.extensions[EXTENSION].get()


def get_config() -> Config:
    return current_app.extensions[EXTENSION].config
