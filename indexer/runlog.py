"""Every crawl run, as a chamber reads it: `emplettes status` and the portal's dashboard.

A run record joins the run's manifest (written by the crawler: start, end, finish reason,
pages, products, errors by kind, bytes) with the state table (written by the indexer:
indexed or not, and what the load did). Next run times come from the scheduler's table.
Nothing here writes; the portal may call it on every request.

    from indexer.runlog import run_records, source_statuses
    for status in source_statuses(config, ["boulangerie-martin"]):
        status.last_run.outcome, status.next_run_at
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from config.i18n import N_, _, ngettext
from indexer.load import index_outcome_label
from indexer.runs import KILLED, TIMED_OUT, RunInfo, _pid_alive, list_runs, run_completed_well, run_id_in_future
from indexer.state import IndexState

# Crawl outcomes, from best to worst.
OK = "ok"  # finished normally with few failed pages: it may remove vanished products
PARTIAL = "partial"  # finished, but too many pages failed: adds and refreshes only
TIME_LIMIT = "time_limit"  # stopped itself at CRAWL_TIME_LIMIT (closespider_timeout)
RUNNING = "running"
FUTURE_ID = "future_id"  # its run id is later than now: refused by the indexer, never "the last run"
ROBOTS = "robots_txt"  # finished without a product because the shop's robots.txt forbids the pages
OUTCOMES = (OK, PARTIAL, TIME_LIMIT, RUNNING, TIMED_OUT, KILLED, "failed", FUTURE_ID, ROBOTS)
NEVER = "never"  # no run yet: a line of the status table and the dashboard, not a run's outcome

# The outcomes as a chamber reads them (`emplettes status` and the dashboard); the codes
# above stay in --json and the state table.
OUTCOME_LABELS = {
    OK: N_("réussie"),
    PARTIAL: N_("partielle"),
    TIME_LIMIT: N_("arrêtée à la limite de temps"),
    RUNNING: N_("en cours"),
    TIMED_OUT: N_("délai dépassé"),
    KILLED: N_("interrompue"),
    "failed": N_("échouée"),
    FUTURE_ID: N_("datée dans le futur"),
    ROBOTS: N_("interdite par robots.txt"),
    NEVER: N_("jamais collectée"),
}


def outcome_label(outcome: str) -> str:
    return _(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome


@dataclass
class RunRecord:
    source_id: str
    run_id: str
    started_at: str | None
    finished_at: str | None
    outcome: str  # one of OUTCOMES
    finish_reason: str | None
    pages: int
    products: int
    records: int  # products and shop records written to the run file
    page_errors: int
    errors: dict[str, int] = field(default_factory=dict)  # by kind: http_500, timeout, too_large...
    bytes: int = 0
    robots_forbidden: int = 0  # requests the shop's robots.txt forbids: not fetched, not errors
    indexed: bool = False
    index_outcome: str | None = None  # complete / partial / unfinished / empty (indexer.load)
    indexed_at: str | None = None
    path: str = ""
    fallbacks: list[str] = field(default_factory=list)  # kinds this run passed over, and why (its detection)

    @property
    def duration(self) -> float | None:
        if not (self.started_at and self.finished_at):
            return None
        return (_parse(self.finished_at) - _parse(self.started_at)).total_seconds()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["duration"] = self.duration
        return data


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def crawl_outcome(info: RunInfo, max_error_ratio: float = 0.2) -> str:
    manifest = info.manifest or {}
    if run_id_in_future(info.run_id):
        return FUTURE_ID
    if not info.finished:
        pid = manifest.get("pid")
        return RUNNING if isinstance(pid, int) and _pid_alive(pid) else KILLED
    reason = info.finish_reason
    if reason in (KILLED, TIMED_OUT):
        return reason
    if reason == "closespider_timeout":
        return TIME_LIMIT
    if reason == "finished":
        if info.count("robots_forbidden") and not info.count("products"):
            return ROBOTS  # "ok, 0 products" would hide why: the shop asks robots to keep out
        return OK if run_completed_well(info, max_error_ratio) else PARTIAL
    return "failed"


def _record(info: RunInfo, indexed: dict[tuple[str, str], Any], max_error_ratio: float) -> RunRecord:
    manifest = info.manifest or {}
    row = indexed.get((info.source_id, info.run_id))
    declared = manifest.get("errors")
    errors: dict[str, int] = declared if isinstance(declared, dict) else {}
    return RunRecord(
        source_id=info.source_id,
        run_id=info.run_id,
        started_at=manifest.get("started_at"),
        finished_at=manifest.get("finished_at"),
        outcome=crawl_outcome(info, max_error_ratio),
        finish_reason=info.finish_reason,
        pages=info.pages,
        products=info.count("products"),
        records=info.items,
        page_errors=info.page_errors,
        errors=dict(errors),
        bytes=info.count("bytes"),
        robots_forbidden=info.count("robots_forbidden"),
        indexed=row is not None,
        index_outcome=row.outcome if row else None,
        indexed_at=row.indexed_at if row else None,
        path=str(info.path),
        fallbacks=_fallbacks(manifest),
    )


def _fallbacks(manifest: dict) -> list[str]:
    detection = manifest.get("detection")
    found = detection.get("fallbacks") if isinstance(detection, dict) else None
    return [str(why) for why in found] if isinstance(found, list) else []


def run_records(
    runs_dir: Path,
    state: IndexState,
    *,
    source_id: str | None = None,
    limit: int | None = None,
    max_error_ratio: float = 0.2,
) -> list[RunRecord]:
    """Runs newest first (all sources, or one)."""
    indexed = {(r.source_id, r.run_id): r for r in state.runs(source_id)}
    runs = [r for r in reversed(list_runs(runs_dir)) if source_id is None or r.source_id == source_id]
    if limit is not None:
        runs = runs[:limit]
    return [_record(info, indexed, max_error_ratio) for info in runs]


@dataclass
class SourceStatus:
    source_id: str
    schedule: str | None
    next_run_at: datetime | None
    last_run: RunRecord | None
    last_ok_run: str | None  # run id of the last run that completed well

    def to_json(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "schedule": self.schedule,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
            "last_run": self.last_run.to_json() if self.last_run else None,
            "last_ok_run": self.last_ok_run,
        }


def source_statuses(
    runs_dir: Path, state: IndexState, source_ids: Iterable[str] | None = None, *, max_error_ratio: float = 0.2
) -> list[SourceStatus]:
    """One line per source: ``source_ids`` in order (the registry's), or every source seen."""
    records = run_records(runs_dir, state, max_error_ratio=max_error_ratio)
    schedules = state.schedules()
    if source_ids is not None:
        ids = list(dict.fromkeys(source_ids))
    else:
        ids = sorted({r.source_id for r in records} | set(schedules))
    latest: dict[str, RunRecord] = {}
    last_ok: dict[str, str] = {}
    for record in records:  # newest first
        if record.outcome == FUTURE_ID:
            continue
        latest.setdefault(record.source_id, record)
        if record.outcome == OK:
            last_ok.setdefault(record.source_id, record.run_id)
    out = []
    for sid in ids:
        schedule, next_run = schedules.get(sid, (None, None))
        out.append(SourceStatus(sid, schedule, next_run, latest.get(sid), last_ok.get(sid)))
    return out


def ago(when: object, now: datetime | None = None) -> str:
    """``il y a 3 h`` for a past time, ``dans 30 min`` for a future one (the next run),
    ``il y a 10 jours``: what ``emplettes status`` and the chamber's dashboard both say."""
    moment = when if isinstance(when, datetime) else None
    if isinstance(when, str):
        try:
            moment = _parse(when.strip())
        except ValueError:
            moment = None
    if moment is None:
        return "—"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # run times are written in UTC
    seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    span = abs(seconds)
    if span < 120:  # a chamber watching a crawl start wants the seconds
        text = _("%(n)s s", n=f"{span:.0f}")
    elif span < 7200:
        text = _("%(n)s min", n=f"{span / 60:.0f}")
    elif span < 2 * 86400:
        text = _("%(n)s h", n=f"{span / 3600:.0f}")
    else:
        text = ngettext("%(num)d jour", "%(num)d jours", round(span / 86400))
    return _("dans %(span)s", span=text) if seconds > 0 else _("il y a %(span)s", span=text)


def error_summary(record: RunRecord) -> str:
    """``timeout×3, robots.txt×12``: failed pages by kind, and the pages robots.txt forbade."""
    parts = [f"{kind}×{count}" for kind, count in sorted(record.errors.items())]
    if record.robots_forbidden:
        parts.append(f"robots.txt×{record.robots_forbidden}")
    return ", ".join(parts) or "—"


def status_table(statuses: list[SourceStatus], now: datetime | None = None) -> str:
    """The table `emplettes status` prints."""
    now = now or datetime.now(UTC)
    header = (
        _("SOURCE"),
        _("DERNIÈRE COLLECTE"),
        _("RÉSULTAT"),
        _("PAGES"),
        _("PRODUITS"),
        _("ERREURS"),
        _("INDEXÉE"),
        _("PROCHAINE"),
    )
    rows = [header]
    for s in statuses:
        r = s.last_run
        if r is None:
            rows.append((s.source_id, _("jamais"), "—", "", "", "", "", ago(s.next_run_at, now)))
            continue
        errors = error_summary(r)
        rows.append(
            (
                s.source_id,
                ago(r.started_at, now),
                outcome_label(r.outcome),
                str(r.pages),
                str(r.products),
                errors,
                index_outcome_label(r.index_outcome) if r.indexed else _("non"),
                ago(s.next_run_at, now),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in rows)


def scheduler_status(data_dir: Path, now: datetime | None = None) -> dict[str, Any]:
    """Is `emplettes schedule` alive? From its heartbeat file (rewritten every few seconds).

    ``state`` is ``running``, ``stopped`` (it shut down cleanly), ``not responding`` (no
    heartbeat for 3 polls, or its process is gone) or ``never started``.
    """
    import json

    path = Path(data_dir) / "scheduler" / "heartbeat.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"state": "never started"}
    now = now or datetime.now(UTC)
    age = (now - _parse(data["seen_at"])).total_seconds() if data.get("seen_at") else None
    if not data.get("running"):
        state = "stopped"
    elif age is None or age > 3 * float(data.get("poll") or 5) + 5 or not _pid_alive(int(data.get("pid", 0))):
        state = "not responding"
    else:
        state = "running"
    return {**data, "state": state, "age": age}


# The scheduler's states (``scheduler_status()["state"]``, read by code) as `emplettes status` says them.
SCHEDULER_STATES = {
    "running": N_("en marche"),
    "stopped": N_("arrêté"),
    "not responding": N_("ne répond plus"),
}


def scheduler_line(status: dict[str, Any]) -> str:
    """One line for `emplettes status`."""
    state = status["state"]
    if state == "never started":
        return _("planificateur : jamais démarré (lancez `emplettes schedule` sous un gestionnaire de services)")
    text = _(
        "planificateur : %(state)s (pid %(pid)s, depuis %(since)s, vu il y a %(age)s s)",
        state=_(SCHEDULER_STATES[state]) if state in SCHEDULER_STATES else state,
        pid=status.get("pid"),
        since=status.get("started_at") or "?",
        age="?" if status.get("age") is None else f"{status['age']:.0f}",
    )
    if status.get("crawling"):
        crawling = status["crawling"]
        text += " ; " + ngettext(
            "collecte en cours : %(ids)s", "collectes en cours : %(ids)s", len(crawling), ids=", ".join(crawling)
        )
    if status.get("index_pending"):
        text += " ; " + _("l'indexation attend l'index de recherche")
    if status.get("registry_error"):
        first = str(status["registry_error"]).splitlines()[0][:300]
        text += " ; " + _(
            "fichier des sources refusé, le dernier registre valide reste en vigueur : %(problem)s", problem=first
        )
    return text
