"""The dashboard's blueprint and what its views share (accounts, registry, catalogues, limits)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Blueprint, current_app

from config import Config
from portal.chambre.accounts import Accounts, open_accounts
from portal.chambre.commands import RegistryReader
from portal.chambre.overview import Catalogues
from portal.ratelimit import TokenBuckets, parse_rate

bp = Blueprint("chambre", __name__, url_prefix="/chambre")
EXTENSION = "emplettes.chambre"


@dataclass
class Dashboard:
    config: Config
    registry: RegistryReader
    catalogues: Catalogues = field(default_factory=Catalogues)
    login_accounts: TokenBuckets | None = None  # attempts per account
    login_addresses: TokenBuckets | None = None  # attempts per client address
    _accounts: Accounts | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accounts(self) -> Accounts:
        """Opened on first use: a portal without staff never creates users.sqlite3."""
        with self._lock:
            if self._accounts is None:
                self._accounts = open_accounts(self.config.data_dir)
            return self._accounts

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=max(self.config.session_hours, 0.01))


def make_dashboard(config: Config) -> Dashboard:
    rate = parse_rate(config.login_rate_limit, name="LOGIN_RATE_LIMIT")
    return Dashboard(
        config=config,
        registry=RegistryReader(config),
        login_accounts=TokenBuckets(rate) if rate else None,
        login_addresses=TokenBuckets(rate) if rate else None,
    )


def dashboard() -> Dashboard:
    return current_app.extensions[EXTENSION]
