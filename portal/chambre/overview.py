"""What the dashboard shows of each source: its registry entry, its runs and its products.

Runs come from :mod:`indexer.runlog` (the figures ``emplettes status`` prints: outcome,
pages, products, errors by kind, next run); products from the search index, as residents
get them. A source's products are read once per indexed run (cached on its latest run id),
so the overview costs a few small queries once the index has settled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config import Config
from indexer import runlog
from indexer.runlog import OK, RunRecord, SourceStatus, run_records, source_statuses
from indexer.runs import run_info
from indexer.search import BackendUnavailable, SearchBackend, SearchQuery
from indexer.state import IndexState
from portal.chambre.quality import Quality, fields_present
from portal.formatting import parse_time
from portal.i18n import _

# One wording for `emplettes status` and the dashboard.
OUTCOME_LABELS = runlog.OUTCOME_LABELS
# Problems first: the lower, the more urgent.
OUTCOME_RANK = {"failed": 0, "killed": 1, "timed_out": 1, "never": 2, "partial": 3, "time_limit": 4, "running": 5}
STALE_DAYS = 7  # a price not read again for this long is shown as a problem
SCAN_PAGES = 10  # products read per source: 10 pages of 1000 (the backends' result window)


# The kinds of page errors the crawler counts (crawler/errors.py), as staff would say them.
ERROR_LABELS = {
    "timeout": "délai dépassé",
    "too_large": "page trop lourde",
    "decompression_too_large": "page compressée trop lourde",
    "redirect_loop": "redirections en boucle",
    "redirect_refused": "redirection refusée",
    "refused_address": "adresse privée refusée",
    "dns": "nom de domaine introuvable",
    "connection_refused": "connexion refusée",
    "connection": "connexion coupée",
    "login_required": "page réservée aux clients connectés",
}


outcome_label = runlog.outcome_label


def error_label(kind: str) -> str:
    """``http_404`` -> ``page introuvable (404)``; unknown kinds as they are."""
    if kind.startswith("http_") and kind[5:].isdigit():
        status = int(kind[5:])
        words = {404: "page introuvable", 403: "accès refusé", 410: "page supprimée", 429: "trop de requêtes"}
        text = words.get(status) or ("erreur du serveur" if status >= 500 else "erreur HTTP")
        return _("%(text)s (%(status)d)", text=_(text), status=status)
    return _(ERROR_LABELS[kind]) if kind in ERROR_LABELS else kind


@dataclass
class Catalogue:
    """What the index holds of a source, summed up per shop while it is read: the products
    themselves are not kept, so the dashboard's memory grows with the shops, not the products."""

    available: bool = True  # False: the index could not be read, nothing is known of the products
    products: int = 0
    shops: dict[str, str] = field(default_factory=dict)  # shop id -> name
    qualities: dict[str, Quality] = field(default_factory=dict)  # shop id -> its products' quality
    examples: dict[str, dict[str, Any]] = field(default_factory=dict)  # shop id -> the product lacking most
    oldest_price_seen: str | None = None

    def add(self, product: dict[str, Any]) -> None:
        self.products += 1
        shop_id = product.get("shop_id") or product.get("source_id") or ""
        self.shops.setdefault(shop_id, product.get("shop_name") or shop_id)
        self.qualities.setdefault(shop_id, Quality()).add(product)
        example = self.examples.get(shop_id)
        if product.get("name") and (example is None or fields_present(product) < fields_present(example)):
            self.examples[shop_id] = product
        seen = product.get("last_seen")
        if product.get("price") and seen and (self.oldest_price_seen is None or seen < self.oldest_price_seen):
            self.oldest_price_seen = seen

    @property
    def quality(self) -> Quality:
        total = Quality()
        for quality in self.qualities.values():
            total = total.merge(quality)
        return total


class Catalogues:
    """Per source, its indexed products summed up, read again when a newer run has been indexed."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[str | None, Catalogue]] = {}
        self._lock = threading.Lock()

    def get(self, backend: SearchBackend | None, source_id: str, latest_run: str | None) -> Catalogue:
        """``backend`` None (the index is down): an empty catalogue, not kept."""
        if backend is None:
            return Catalogue(available=False)
        with self._lock:
            cached = self._cache.get(source_id)
        if cached and cached[0] == latest_run:
            return cached[1]
        catalogue = Catalogue()
        try:
            for page in range(1, SCAN_PAGES + 1):
                query = SearchQuery(
                    filters={"source_id": (source_id,)}, sort="newest", page=page, per_page=1000, facets=()
                )
                result = backend.search(query)
                for product in result.hits:
                    catalogue.add(product)
                if page >= result.pages:
                    break
        except BackendUnavailable:
            return Catalogue(available=False)
        with self._lock:
            self._cache[source_id] = (latest_run, catalogue)
        return catalogue


@dataclass
class SourceRow:
    source: dict[str, Any]  # the registry entry, defaults applied
    status: SourceStatus
    catalogue: Catalogue
    robots_forbidden: int
    now: datetime

    @property
    def id(self) -> str:
        return self.source["id"]

    @property
    def last_run(self) -> RunRecord | None:
        return self.status.last_run

    @property
    def outcome(self) -> str:
        return self.last_run.outcome if self.last_run else "never"

    @property
    def stale(self) -> bool:
        seen = parse_time(self.catalogue.oldest_price_seen)
        return seen is not None and (self.now - seen).days >= STALE_DAYS

    @property
    def problems(self) -> list[str]:
        out = []
        if self.outcome != OK and self.outcome != "running":
            out.append(_("dernière collecte : %(outcome)s", outcome=outcome_label(self.outcome)))
        if self.last_run and self.last_run.page_errors:
            out.append(_("%(count)d page(s) en erreur", count=self.last_run.page_errors))
        if self.robots_forbidden:
            out.append(_("%(count)d page(s) refusée(s) par robots.txt", count=self.robots_forbidden))
        if self.stale:
            out.append(_("des prix n'ont pas été relus depuis plus de %(days)d jours", days=STALE_DAYS))
        if self.last_run and self.outcome == OK and self.catalogue.available and not self.catalogue.products:
            out.append(_("aucun produit dans le catalogue"))
        return out

    @property
    def rank(self) -> tuple[int, int, str]:
        base = OUTCOME_RANK.get(self.outcome, 9)
        if base == 9 and self.problems:
            base = 6
        return base, -len(self.problems), self.source.get("name", "").lower()


def robots_refusals(record: RunRecord | None) -> int:
    """Pages robots.txt kept the crawler from, from the run's manifest (the crawler counts them)."""
    if record is None or not record.path:
        return 0
    return run_info(Path(record.path)).count("robots_forbidden")


def failed_urls(record: RunRecord | None) -> dict[str, list[str]]:
    """Kind of error -> a few of the addresses that failed so (the crawler keeps ten per kind)."""
    if record is None or not record.path:
        return {}
    declared = (run_info(Path(record.path)).manifest or {}).get("failed_urls")
    if not isinstance(declared, dict):
        return {}
    return {
        str(kind): [str(url) for url in urls if isinstance(url, str)][:10]
        for kind, urls in sorted(declared.items())
        if isinstance(urls, list)
    }


def source_rows(
    config: Config, backend: SearchBackend | None, catalogues: Catalogues, sources: list[dict[str, Any]]
) -> list[SourceRow]:
    """One row per source, problems first."""
    now = datetime.now(UTC)
    with IndexState(config.state_db) as state:
        statuses = source_statuses(
            config.runs_dir, state, [s["id"] for s in sources], max_error_ratio=config.max_error_ratio
        )
        latest = state.latest_indexed()
    by_id = {s["id"]: s for s in sources}
    rows = [
        SourceRow(
            source=by_id[status.source_id],
            status=status,
            catalogue=catalogues.get(backend, status.source_id, latest.get(status.source_id)),
            robots_forbidden=robots_refusals(status.last_run),
            now=now,
        )
        for status in statuses
    ]
    return sorted(rows, key=lambda row: row.rank)


def history(config: Config, source_id: str, limit: int = 30) -> list[RunRecord]:
    with IndexState(config.state_db) as state:
        return run_records(
            config.runs_dir, state, source_id=source_id, limit=limit, max_error_ratio=config.max_error_ratio
        )


def latest_run_id(config: Config, source_id: str) -> str | None:
    with IndexState(config.state_db) as state:
        return state.latest_indexed().get(source_id)
