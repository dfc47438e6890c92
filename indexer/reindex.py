"""Rebuilding the whole search index from the run files on disk (``emplettes reindex``).

When: after an upgrade that changes the index schema or the analysis (the embedded index
then refuses to open), after editing the synonyms file (Elasticsearch copies it into the
index settings), on a new Elasticsearch cluster, or when the index was lost.

What: for each source, its latest run that completed well, then every finished run newer
than it (partial runs add and refresh offers, never remove them), loaded with the usual
rules of :func:`indexer.load.load_run` into a **fresh** index. The fresh index replaces the
old one in one step only when every run loaded (tantivy: directory swap; Elasticsearch:
alias swap), so the portal keeps answering from the old index meanwhile, and a failure
leaves it untouched.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import sys
import time
from collections import defaultdict, deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from config.i18n import _, ngettext
from indexer.backends.base import SearchBackend
from indexer.load import LoadReport, load_run, read_valid_run, record_load
from indexer.runs import RunInfo, list_runs, run_completed_well, run_id_in_future
from indexer.state import IndexState
from indexer.unused_images import collect_unused_images


@dataclass
class ReindexReport:
    runs: list[LoadReport] = field(default_factory=list)
    skipped: list[RunInfo] = field(default_factory=list)  # older than a good run, or unfinished
    seconds: float = 0.0

    @property
    def records(self) -> int:
        return sum(r.records for r in self.runs)

    @property
    def products(self) -> int:
        return sum(r.products for r in self.runs)

    def summary(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return _(
            "reconstruit depuis %(runs)s : %(products)s, %(records)s en %(seconds)s s (%(rate)s fiches/s) ; "
            "%(skipped)s",
            runs=ngettext("%(num)d collecte", "%(num)d collectes", len(self.runs)),
            products=ngettext("%(num)d produit", "%(num)d produits", self.products),
            records=ngettext("%(num)d fiche", "%(num)d fiches", self.records),
            seconds=f"{self.seconds:.1f}".replace(".", ","),
            rate=f"{rate:,.0f}".replace(",", "\u202f"),
            skipped=ngettext(
                "%(num)d collecte plus ancienne ou inachevée ignorée",
                "%(num)d collectes plus anciennes ou inachevées ignorées",
                len(self.skipped),
            ),
        )


def runs_to_rebuild(runs_dir: Path, max_error_ratio: float) -> tuple[list[RunInfo], list[RunInfo]]:
    """(runs to load, oldest first; runs skipped). Per source: the latest good run and the
    finished runs after it; a source without any good run keeps all its finished runs
    (none of them ever removed anything, so the live index holds them all too)."""
    by_source: dict[str, list[RunInfo]] = defaultdict(list)
    for run in list_runs(runs_dir):
        by_source[run.source_id].append(run)
    chosen: list[RunInfo] = []
    skipped: list[RunInfo] = []
    for source_runs in by_source.values():
        # A run id later than now is refused (indexer.load): it must not pass for the latest good run.
        finished = [run for run in source_runs if run.finished and not run_id_in_future(run.run_id)]
        skipped += [run for run in source_runs if run not in finished]
        good = [i for i, run in enumerate(finished) if run_completed_well(run, max_error_ratio)]
        start = good[-1] if good else 0
        skipped += finished[:start]
        chosen += finished[start:]
    chosen.sort(key=lambda run: (run.run_id, run.source_id))
    return chosen, skipped


def reindex(
    runs_dir: Path,
    backend: SearchBackend,
    *,
    state: IndexState | None = None,
    max_error_ratio: float = 0.2,
    on_report: Callable[[LoadReport], None] | None = None,
) -> ReindexReport:
    """Rebuild ``backend`` from the run files in ``runs_dir`` into a fresh index, then swap."""
    started = time.perf_counter()
    chosen, skipped = runs_to_rebuild(runs_dir, max_error_ratio)
    report = ReindexReport(skipped=skipped)
    fresh = backend.start_rebuild()
    try:
        # Nobody searches the fresh index: one bulk load, not one commit per run.
        with _collector_paused(), fresh.bulk(), closing(_read_ahead(chosen)) as reads:
            for run, read in zip(chosen, reads, strict=False):
                loaded = load_run(run.path, fresh, max_error_ratio=max_error_ratio, read=read)
                report.runs.append(loaded)
                if on_report is not None:
                    on_report(loaded)

        def catch_up() -> None:
            """Runs an `emplettes index` loaded into the live index during the rebuild (the
            swap holds the loaders off now): into the new index too, or they would vanish."""
            if state is None:
                return
            for run in _loaded_meanwhile(runs_dir, state, report.runs):
                loaded = load_run(run.path, fresh, max_error_ratio=max_error_ratio)
                report.runs.append(loaded)
                if on_report is not None:
                    on_report(loaded)

        backend.finish_rebuild(fresh, before_swap=catch_up)
    except BaseException:
        backend.abort_rebuild(fresh)
        raise
    if state is not None:  # only now are these runs in the index searches use
        for loaded in report.runs:
            record_load(state, loaded)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a rebuild loads: the records it holds (read
    ahead, held back until a commit) are acyclic, yet each full collection walks them
    all, more often as they grow: a noticeable share of a rebuild (docs/benchmarks.md)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _loaded_meanwhile(runs_dir: Path, state: IndexState, loaded: list[LoadReport]) -> list[RunInfo]:
    """Runs the state records as indexed that the rebuild did not load and that are newer
    than every run it loaded for their source, oldest first."""
    done = {(report.source_id, report.run_id) for report in loaded}
    newest: dict[str, str] = {}
    for report in loaded:
        newest[report.source_id] = max(newest.get(report.source_id, ""), report.run_id)
    indexed = state.indexed_keys()
    return [
        run
        for run in list_runs(runs_dir)
        if (run.source_id, run.run_id) in indexed
        and (run.source_id, run.run_id) not in done
        and run.run_id > newest.get(run.source_id, "")
    ]


READ_AHEAD_ABOVE_BYTES = 32_000_000  # smaller rebuilds read inline: starting a process costs more than it saves
READ_AHEAD_BYTES = 64_000_000  # run files read and validated ahead of the loader, at most


def _read_ahead(runs: list[RunInfo]) -> Generator[tuple[LoadReport, list[dict]] | None, None, None]:
    """:func:`read_valid_run` of each run in turn, computed in a second process while this
    one indexes: reading and validating is a quarter of a rebuild's work, and this
    process's thread is what bounds a rebuild on two cores. None for each run (the loader
    reads it itself) when the run files are small."""
    sizes = [run.path.stat().st_size if run.path.exists() else 0 for run in runs]
    if sum(sizes) < READ_AHEAD_ABOVE_BYTES:
        yield from (None for _ in runs)
        return
    # spawn, not fork: this process already runs the index writer's threads.
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        queued: deque = deque()
        ahead = 0
        for run, size in zip(runs, sizes, strict=False):
            queued.append((pool.submit(read_valid_run, run.path), size))
            ahead += size
            while ahead >= READ_AHEAD_BYTES:
                future, done = queued.popleft()
                ahead -= done
                yield future.result()
        for future, _ in queued:
            yield future.result()
    finally:  # a failed rebuild does not wait for the runs read ahead
        pool.shutdown(wait=True, cancel_futures=True)


def die_with_parent(parent: int) -> None:
    """In the reading process: be killed with the rebuild that started it. A rebuild killed
    with -9 otherwise left its reader (and multiprocessing's resource tracker, which waits
    for it) running for good."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above: nobody to read for
        os._exit(1)


REBUILD_LOCK = "reindex.lock"  # in DATA_DIR: held by the process rebuilding the index


@contextmanager
def rebuild_lock(data_dir: Path, *, wait: bool) -> Iterator[bool]:
    """The right to rebuild (or to clean what a rebuild left): True when held. The kernel
    releases it when its holder dies, even by -9, so a lock file alone proves nothing."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / REBUILD_LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True


def clean_rebuild_leftovers(config, *, out=None, locked: bool = False) -> list[Path | str]:
    """Remove what a rebuild killed mid-way left, unless a rebuild is running now: beside
    the embedded index its ``index.rebuild-*`` directory and lock and an ``index.old-*``
    directory; on Elasticsearch the versions of ``ELASTICSEARCH_INDEX`` no alias points to.
    ``emplettes index`` and ``reindex`` call this first."""
    if not locked:
        with rebuild_lock(config.data_dir, wait=False) as held:
            return clean_rebuild_leftovers(config, out=out, locked=True) if held else []
    index_dir = Path(config.index_dir)
    removed = []
    for path in sorted(index_dir.parent.glob(f"{index_dir.name}.rebuild-*")) + sorted(
        index_dir.parent.glob(f"{index_dir.name}.old-*")
    ):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
        if out is not None:
            print("  " + _("reste d'une reconstruction interrompue supprimé : %(path)s", path=path), file=out)
    return [*removed, *_remove_orphan_versions(config, out=out)]


def _remove_orphan_versions(config, *, out=None) -> list[str]:
    """On Elasticsearch: the indices of this prefix a killed rebuild left outside the alias.
    A cluster unreachable or answering oddly is not this function's to report: the command
    that follows opens it too, and says what is wrong in one line."""
    from indexer.backends.base import BackendUnavailable

    if (config.search_backend or "tantivy").strip().lower() != "elasticsearch":
        return []
    from elasticsearch import ApiError

    from indexer.backends.elasticsearch_backend import ElasticsearchBackend
    from indexer.search import open_backend

    try:
        backend = open_backend(config)
    except (BackendUnavailable, ValueError):
        return []
    try:
        orphans = backend.remove_orphan_versions() if isinstance(backend, ElasticsearchBackend) else []
    except (BackendUnavailable, ApiError):
        return []
    finally:
        backend.close()
    for name in orphans:
        if out is not None:
            print(
                "  " + _("index Elasticsearch d'une reconstruction interrompue supprimé : %(name)s", name=name),
                file=out,
            )
    return orphans


def reindex_job(config, *, out=None) -> ReindexReport:
    """``emplettes reindex``: open the configured backend (an embedded index too old to
    open is rebuilt all the same), rebuild, report. One rebuild at a time; what a killed
    one left is removed first, the images no run file uses any more after."""
    from indexer.backends.base import BackendUnavailable

    with rebuild_lock(config.data_dir, wait=False) as held:
        if not held:
            raise BackendUnavailable(_("une reconstruction de l'index est déjà en cours"))
        clean_rebuild_leftovers(config, out=out, locked=True)
        report = _reindex_job(config, out=out)
    collect_unused_images(config, out=out, every=0)  # the run files just read are the truth
    return report


def _reindex_job(config, *, out=None) -> ReindexReport:
    from indexer.backends.base import BackendUnavailable
    from indexer.search import open_backend

    def show(report: LoadReport) -> None:
        if out is not None:
            print(f"  {'✓' if report.completed_well else '•'} {report.summary()}", file=out, flush=True)

    try:
        backend = open_backend(config)
    except BackendUnavailable:
        if (config.search_backend or "tantivy").strip().lower() != "tantivy":
            raise
        from indexer.backends.tantivy import TantivyBackend

        backend = TantivyBackend.for_rebuild(config.index_dir)  # built with another schema
    state = IndexState(config.state_db)
    try:
        report = reindex(config.runs_dir, backend, state=state, max_error_ratio=config.max_error_ratio, on_report=show)
    finally:
        state.close()
        backend.close()
    if out is not None:
        print(f"  {report.summary()}", file=out, flush=True)
    return report
