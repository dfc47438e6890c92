"""Indexing jobs as the command line and the demo run them: open, load, report, close."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from config import Config
from config.i18n import _, ngettext
from indexer.backends.base import BackendUnavailable
from indexer.load import LoadReport, load_pending, load_run
from indexer.reindex import clean_rebuild_leftovers
from indexer.runs import reap_dead_runs
from indexer.search import open_backend
from indexer.state import IndexState
from indexer.unused_images import collect_unused_images


def index_runs(config: Config, run_files: list[Path] | None = None, *, out: TextIO | None = None) -> list[LoadReport]:
    """Load the given run files, or every finished run not yet indexed (oldest first).

    An unreachable index leaves the run files untouched and unrecorded: the next call
    picks them up again.
    """

    def show(report: LoadReport) -> None:
        if out is not None:
            print(f"  {'✓' if report.completed_well else '•'} {report.summary()}", file=out, flush=True)
            for number, message in report.errors[:5]:
                where = report.path if number is None else f"{report.path}:{number}"
                print(f"      {where} : {message}", file=out)

    config.data_dir.mkdir(parents=True, exist_ok=True)
    clean_rebuild_leftovers(config, out=out)  # a rebuild killed mid-way: its directory and lock
    if not run_files:
        # A crawl killed mid-way (kill -9, out of memory) never closed its manifest: close it
        # as "killed" so what it wrote is loaded (added, never sweeping) and the run is recorded.
        for run in reap_dead_runs(config.runs_dir):
            if out is not None:
                print(
                    "  ✗ "
                    + _(
                        "%(run)s : son processus de collecte a disparu : enregistrée comme interrompue",
                        run=f"{run.source_id}/{run.run_id}",
                    ),
                    file=out,
                )
    try:
        backend = open_backend(config)
    except BackendUnavailable as exc:  # e.g. an index of another schema: the message says what to run
        if out is not None:
            print(
                "  " + _("index de recherche indisponible (%(why)s) ; fichiers de collecte gardés", why=exc), file=out
            )
        raise
    state = IndexState(config.state_db)
    try:
        if run_files:
            reports = []
            for path in run_files:
                report = load_run(path, backend, state=state, max_error_ratio=config.max_error_ratio)
                show(report)
                reports.append(report)
        else:
            reports = load_pending(
                config.runs_dir, backend, state, max_error_ratio=config.max_error_ratio, on_report=show
            )
    except BackendUnavailable as exc:
        if out is not None:
            print(
                "  "
                + _(
                    "index de recherche indisponible (%(why)s) ; fichiers de collecte gardés, "
                    "relancez `emplettes index`",
                    why=exc,
                ),
                file=out,
            )
        raise
    finally:
        state.close()
        backend.close()
    if out is not None:
        if not reports:
            print("  " + _("rien à indexer : chaque collecte terminée est déjà dans l'index"), file=out)
        else:
            total = ngettext("%(num)d produit", "%(num)d produits", sum(r.products for r in reports))
            runs = ngettext("%(num)d collecte indexée", "%(num)d collectes indexées", len(reports))
            print(f"  {runs}, {total}", file=out, flush=True)
    collect_unused_images(config, out=out)  # at most every few hours: it reads every kept run file
    return reports
