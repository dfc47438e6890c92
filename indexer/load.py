"""Loading a run into the search backend: validate, upsert, then sweep only after a good run.

The rule that keeps the portal honest: a run that completed well (Scrapy finished
normally, few failed pages, few invalid lines, at least one record) replaces its source's
older records; any other run only adds and refreshes records, it never shrinks the index.
A product that vanished from a shop's site disappears at the next good run.

Records are validated once, here, at the run-file boundary, and written in batches of
``BATCH_SIZE``; a product already indexed keeps its older ``first_seen`` (asked of the
backend per batch), whichever backend holds the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.i18n import N_, _, ngettext
from config.reasons import validation_reason
from indexer.backends.base import BackendUnavailable, SearchBackend
from indexer.records import id_in_source, parse_record
from indexer.runs import RunInfo, list_runs, read_run_lines, run_completed_well, run_id_in_future, run_info
from indexer.state import IndexState

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 20
BATCH_SIZE = 5_000

# Outcomes, as stored in the state table.
COMPLETE = "complete"  # good run: upserted, older records swept
PARTIAL = "partial"  # ended badly or too many errors: upserted, older records kept
UNFINISHED = "unfinished"  # no finished manifest (killed): upserted, older records kept
EMPTY = "empty"  # ended well but held no valid record: nothing swept
REFUSED = "refused"  # not loaded at all (a run id later than now): not recorded, nothing written

# The outcomes as people read them (run reports, `emplettes status`); the codes stay in the state table.
INDEX_OUTCOME_LABELS = {
    COMPLETE: N_("complète"),
    PARTIAL: N_("partielle"),
    UNFINISHED: N_("inachevée"),
    EMPTY: N_("vide"),
    REFUSED: N_("refusée"),
}


def index_outcome_label(outcome: str | None) -> str:
    """``complete`` -> ``complète``; an indexed run of an older version without outcome: ``oui``."""
    if not outcome:
        return _("oui")
    return _(INDEX_OUTCOME_LABELS[outcome]) if outcome in INDEX_OUTCOME_LABELS else outcome


@dataclass
class LoadReport:
    source_id: str
    run_id: str
    path: Path
    records: int = 0  # valid records upserted
    products: int = 0
    shops: int = 0
    rejected: int = 0  # lines that failed JSON or schema validation
    # (line number, or None for a record the index refused, message): the first ones
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    truncated: bool = False  # the last line was cut mid-write (not counted as rejected)
    completed_well: bool = False
    swept: int = 0
    outcome: str = UNFINISHED
    reason: str = ""  # why older records were kept, for people

    def summary(self) -> str:
        text = _(
            "%(run)s : %(records)s (%(products)s, %(shops)s), %(rejected)s, %(swept)s [%(outcome)s]",
            run=f"{self.source_id}/{self.run_id}",
            records=ngettext("%(num)d fiche", "%(num)d fiches", self.records),
            products=ngettext("%(num)d produit", "%(num)d produits", self.products),
            shops=ngettext("%(num)d boutique", "%(num)d boutiques", self.shops),
            rejected=ngettext("%(num)d rejetée", "%(num)d rejetées", self.rejected),
            swept=ngettext("%(num)d ancienne retirée", "%(num)d anciennes retirées", self.swept),
            outcome=index_outcome_label(self.outcome),
        )
        return f"{text} : {self.reason}" if self.reason else text


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = list(error["loc"])
        if len(loc) > 1 and loc[0] in ("product", "shop"):
            loc = loc[1:]  # the union's discriminator tag, not a field
        location = ".".join(str(part) for part in loc) or _("fiche")
        parts.append(f"{location} : {validation_reason(error)}")
    more = exc.error_count() - len(parts)
    return " ; ".join(parts) + (" " + _("(+%(more)s autres)", more=more) if more > 0 else "")


def _reject(report: LoadReport, number: int | None, message: str) -> None:
    report.rejected += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append((number, message))


def _valid_records(info: RunInfo, report: LoadReport) -> Iterator[dict[str, Any]]:
    if not info.path.exists():
        return  # the crawl ended before writing any record (killed early, timed out)
    others = _sources_beside(info)
    for line in read_run_lines(info.path):
        if line.truncated:
            report.truncated = True
            continue
        if line.data is None:
            _reject(report, line.number, line.error or _("ligne illisible"))
            continue
        try:
            record = parse_record(line.data)
        except ValidationError as exc:
            _reject(report, line.number, _describe(exc))
            continue
        if record.source_id != info.source_id:
            # A record of another source would escape this source's sweep.
            _reject(
                report,
                line.number,
                _(
                    "source_id : %(found)s dans un run de %(source)s",
                    found=repr(record.source_id),
                    source=repr(info.source_id),
                ),
            )
            continue
        if not id_in_source(record.id, info.source_id, others):
            _reject(
                report,
                line.number,
                _(
                    "id : %(id)s n'est pas un identifiant de la source %(source)s (une source n'écrit que ses "
                    "propres fiches)",
                    id=repr(record.id),
                    source=repr(info.source_id),
                ),
            )
            continue
        data = record.model_dump(mode="json")
        data["run_id"] = info.run_id  # the file is the truth: the sweep keeps this run
        report.records += 1
        if data["type"] == "product":
            report.products += 1
        else:
            report.shops += 1
        yield data


def _sources_beside(info: RunInfo) -> list[str]:
    """The other sources whose runs sit beside this one (``runs/<source>/``): those whose
    ids a run of a shorter source id could otherwise take (see ``id_in_source``)."""
    try:
        return [path.name for path in info.path.parent.parent.iterdir() if path.is_dir()]
    except OSError:
        return []


def _sweep_decision(info: RunInfo, report: LoadReport, max_error_ratio: float) -> tuple[bool, str, str]:
    if not info.finished:
        return False, UNFINISHED, _("la collecte n'a pas fini (pas de manifeste ou pas de finished_at)")
    if info.manifest and info.manifest.get("shared_queue"):
        # One worker of a distributed crawl: the other workers read the rest of the shop,
        # so what this run lacks has not vanished. Adds and refreshes only.
        return (
            False,
            PARTIAL,
            _(
                "un des ouvriers d'une collecte partagée (%(queue)s) : les fiches plus anciennes sont gardées",
                queue=info.manifest["shared_queue"],
            ),
        )
    if not run_completed_well(info, max_error_ratio):
        if info.finish_reason != "finished":
            why = _("la collecte a fini sur %(reason)s", reason=repr(info.finish_reason))
        elif info.pages <= 0:
            why = _("la collecte n'a lu aucune page")
        else:
            why = ngettext(
                "%(num)s page sur %(pages)s en erreur",
                "%(num)s pages sur %(pages)s en erreur",
                info.page_errors,
                pages=info.pages,
            )
        return False, PARTIAL, why
    lines = report.records + report.rejected
    if lines and report.rejected / lines > max_error_ratio:
        why = ngettext(
            "%(num)s ligne sur %(lines)s invalide",
            "%(num)s lignes sur %(lines)s invalides",
            report.rejected,
            lines=lines,
        )
        return False, PARTIAL, why
    if report.records == 0:
        return False, EMPTY, _("le run ne contient aucune fiche valide")
    if report.products == 0:
        # A shop page that suddenly declares no product is far more often a redesign or a
        # broken page than a shop that sold everything: keep what residents can find.
        return (
            False,
            EMPTY,
            _("le run n'a trouvé aucun produit (balisage changé ?) : les produits plus anciens sont gardés"),
        )
    return True, COMPLETE, ""


def read_valid_run(path: Path) -> tuple[LoadReport, list[dict[str, Any]]]:
    """(the report of reading, the valid records) of one run file: the part of loading
    that needs no index, which a rebuild runs in another process (indexer.reindex)."""
    info = run_info(Path(path))
    report = LoadReport(source_id=info.source_id, run_id=info.run_id, path=info.path)
    return report, list(_valid_records(info, report))


def load_run(
    path: Path,
    backend: SearchBackend,
    *,
    state: IndexState | None = None,
    max_error_ratio: float = 0.2,
    batch_size: int = BATCH_SIZE,
    read: tuple[LoadReport, list[dict[str, Any]]] | None = None,
) -> LoadReport:
    """Validate and upsert one run file; sweep the source's older records after a good run.

    Invalid lines are counted and the first ones reported with their line numbers; this
    never raises on bad content. ``BackendUnavailable`` propagates and nothing is recorded
    in ``state``, so the run is loaded again next time (upserts are idempotent).
    ``read``: what :func:`read_valid_run` gave for this file, when it ran elsewhere.
    """
    info = run_info(Path(path))
    if run_id_in_future(info.run_id):
        report = LoadReport(source_id=info.source_id, run_id=info.run_id, path=info.path, outcome=REFUSED)
        report.reason = future_run_message(info.run_id)
        log.warning("%s", report.summary())
        return report
    if read is None:
        report = LoadReport(source_id=info.source_id, run_id=info.run_id, path=info.path)
        records: Iterable[dict[str, Any]] = _valid_records(info, report)
    else:
        report, records = read
    batch: list[dict[str, Any]] = []
    for record in records:
        batch.append(record)
        if len(batch) >= batch_size:
            write_batch(backend, batch)
            _count_refused(backend, batch, report)
            batch = []
    if batch:
        write_batch(backend, batch)
        _count_refused(backend, batch, report)

    sweep, report.outcome, report.reason = _sweep_decision(info, report, max_error_ratio)
    report.completed_well = sweep
    if sweep:
        report.swept = backend.delete_source(info.source_id, keep_run=info.run_id)
    if state is not None:
        record_load(state, report)
    log.info("%s", report.summary())
    return report


def future_run_message(run_id: str) -> str:
    return _(
        "run refusé : son identifiant %(run_id)s est daté dans le futur (horloge de la machine du "
        "crawl fausse ?) ; renommez ou supprimez ce run, les suivants de la source sont chargés",
        run_id=run_id,
    )


def _count_refused(backend: SearchBackend, batch: list[dict[str, Any]], report: LoadReport) -> None:
    """Records of ``batch`` the index refused count as rejected lines of the run (and weigh
    in the sweep decision), each named with its source in the report and the log."""
    if not backend.last_rejected:
        return
    kinds = {record["id"]: record.get("type") for record in batch}
    for refused in backend.last_rejected:
        record_id = refused.get("id")
        error = refused.get("error")
        if isinstance(error, dict):
            error = f"{error.get('type', 'error')}: {error.get('reason', '')}".strip(": ")
        message = _(
            "fiche %(id)s de %(source)s refusée par l'index (%(status)s %(error)s)",
            id=record_id,
            source=report.source_id,
            status=refused.get("status"),
            error=error,
        )
        log.warning("%s/%s: %s", report.source_id, report.run_id, message)
        report.records -= 1
        if kinds.get(record_id) == "product":
            report.products -= 1
        else:
            report.shops -= 1
        _reject(report, None, message)


def _instant(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def keep_first_seen(backend: SearchBackend, records: list[dict[str, Any]]) -> None:
    """A product already indexed keeps its older ``first_seen``: "nouveautés" sorts by when
    a product first appeared, not by its latest crawl. Changes ``records`` in place."""
    products = [record["id"] for record in records if record.get("type") == "product"]
    if not products:
        return
    known = backend.first_seen(products)
    if not known:
        return
    for record in records:
        previous = known.get(record["id"]) if record.get("type") == "product" else None
        if previous and (not record.get("first_seen") or _instant(previous) < _instant(record["first_seen"])):
            record["first_seen"] = previous


def write_batch(backend: SearchBackend, records: list[dict[str, Any]]) -> int:
    """One batch of validated records into the backend, older ``first_seen`` kept."""
    keep_first_seen(backend, records)
    return backend.upsert(records)


def record_load(state: IndexState, report: LoadReport) -> None:
    """Note in ``state`` that the run of ``report`` is in the index (it is not loaded again)."""
    state.record_run(
        report.source_id,
        report.run_id,
        report.path,
        records=report.records,
        rejected=report.rejected,
        swept=report.swept,
        outcome=report.outcome,
    )


def pending_runs(runs_dir: Path, state: IndexState) -> list[RunInfo]:
    """Finished runs not yet indexed, oldest first.

    A run older than the latest run already indexed for its source is skipped: loading it
    would bring back stale offers and, after a good run, sweep the newer ones.
    """
    indexed = state.indexed_keys()
    latest = state.latest_indexed()
    return [
        run
        for run in list_runs(runs_dir)
        if run.finished and (run.source_id, run.run_id) not in indexed and run.run_id > latest.get(run.source_id, "")
    ]


def load_pending(
    runs_dir: Path,
    backend: SearchBackend,
    state: IndexState,
    *,
    max_error_ratio: float = 0.2,
    on_report: Callable[[LoadReport], None] | None = None,
) -> list[LoadReport]:
    """Load every pending run in order. Stops at ``BackendUnavailable`` (re-raised): the
    runs already loaded stay recorded, the others are retried next time."""
    reports = []
    for run in pending_runs(runs_dir, state):
        try:
            report = load_run(run.path, backend, state=state, max_error_ratio=max_error_ratio)
        except BackendUnavailable:
            log.warning(
                "%s",
                _(
                    "index de recherche indisponible ; %(run)s attend la prochaine fois",
                    run=f"{run.source_id}/{run.run_id}",
                ),
            )
            raise
        reports.append(report)
        if on_report is not None:
            on_report(report)
    return reports
