"""`emplettes schedule`: every source refreshed on its own schedule, in one long-running process.

One APScheduler job per source of ``sources.yaml``. Each job runs the crawl of its source
as a **subprocess** (``python -m emplettes.cli crawl --source ID``): Twisted's reactor
cannot restart, a subprocess bounds memory, and a hostile site can at worst kill its own
crawl. The job then indexes every finished run not yet indexed.

- **Schedules**: ``hourly``, ``daily`` (03:00), ``weekly`` (Monday 03:00), ``every 6h``
  (also ``m``/``min``/``d``) or a 5-field cron expression, in the scheduler's time zone
  (``TZ``); the registry's ``defaults.schedule`` applies to entries without one. Every start
  is delayed by a random 0..SCHEDULE_JITTER seconds so 500 shops do not start together.
- **Limits**: at most one run per source at a time (``max_instances=1``); at most
  CRAWL_CONCURRENCY crawls at once (the job thread pool's size: further jobs wait their
  turn); each crawl stops itself at CRAWL_TIME_LIMIT (Scrapy's CLOSESPIDER_TIMEOUT, a
  partial run) and is killed 60 s later if it has not (recorded as ``timeout``).
- **State across restarts**: next run times are kept in ``DATA_DIR/state.sqlite3``
  (table ``schedule``); a restarted scheduler resumes them, and runs missed while it was
  down run once, soon after the restart (misfires coalesced). A crawl killed with the
  scheduler (or by the OOM killer, or ``kill -9``) is found on the next start and recorded
  as ``killed``.
- **Registry edits** are picked up while running (checked every few seconds): added
  sources get a job, removed ones lose it, changed ones are rescheduled. An invalid file
  is refused with its problems logged, and the last valid registry stays in force (crawls
  read a snapshot of it, never the file being edited).
- **Housekeeping**: run files beyond RUNS_KEEP per source are deleted after indexing,
  never one the index may still need (see :func:`indexer.runs.prune_runs`).
- **Index outages**: a crawl's run file stays in ``DATA_DIR/runs``; indexing is retried
  every few seconds until the index is back (``indexer.load.load_pending`` catches up).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from config import Config
from config.i18n import _, ngettext
from crawler.registry import Registry, RegistryError, parse_registry, read_registry_text
from indexer.runs import TIMED_OUT, prune_runs, reap_dead_runs
from indexer.state import IndexState

log = logging.getLogger("emplettes.scheduler")

_EVERY = re.compile(r"^every (\d+) ?(m|min|h|d)$")
KILL_GRACE = 60.0  # seconds past CRAWL_TIME_LIMIT before the crawl process is killed


REBUILD_JOB = "__rebuild__"  # not a source id: those are slugs


def trigger_for(schedule: str, *, jitter: int = 0, timezone_=None) -> BaseTrigger:
    """The APScheduler trigger of a registry ``schedule`` value (already validated)."""
    spec = schedule.strip()
    jitter = jitter or None
    tz = timezone_ or UTC
    if spec == "hourly":
        return IntervalTrigger(hours=1, jitter=jitter, timezone=tz)
    if spec == "daily":
        return CronTrigger(hour=3, minute=0, jitter=jitter, timezone=tz)
    if spec == "weekly":
        return CronTrigger(day_of_week="mon", hour=3, minute=0, jitter=jitter, timezone=tz)
    match = _EVERY.match(spec)
    if match:
        count, unit = int(match.group(1)), match.group(2)
        if count <= 0:
            raise ValueError(_("schedule %(spec)s : l'intervalle doit être positif", spec=repr(schedule)))
        unit = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}[unit]
        return IntervalTrigger(**{unit: count}, jitter=jitter, timezone=tz)
    trigger = CronTrigger.from_crontab(_crontab_days(spec), timezone=tz)
    trigger.jitter = jitter  # from_crontab takes no jitter
    return trigger


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _crontab_days(spec: str) -> str:
    """Cron counts days of week from Sunday = 0 (or 7); APScheduler 3 from Monday = 0.

    Numbers in the day-of-week field are rewritten as names, which both read alike:
    ``0 4 * * 1-5`` runs Monday to Friday, as a chamber's IT person expects from cron.
    """
    fields = spec.split()
    if len(fields) != 5:
        raise ValueError(_("schedule %(spec)s : une expression cron a 5 champs", spec=repr(spec)))
    parts = []
    for part in fields[4].split(","):
        step = ""
        if "/" in part:
            part, step = part.split("/", 1)
            step = "/" + step
        if re.fullmatch(r"[0-7]-[0-7]", part):
            low, high = (int(x) for x in part.split("-"))
            if low == 0 and high >= 1:  # sun-...: APScheduler's ranges cannot wrap past sat
                parts.append("sun" if high < 7 else "mon-sun")
                if high < 7:
                    parts.append(f"mon-{_DAYS[high]}{step}" if high > 1 else f"mon{step}")
                continue
            part = f"{_DAYS[low]}-{_DAYS[high]}"
        elif re.fullmatch(r"[0-7]", part):
            part = _DAYS[int(part)]
        parts.append(part + step)
    fields[4] = ",".join(parts)
    return " ".join(fields)


@dataclass
class CrawlResult:
    source_id: str
    returncode: int | None
    timed_out: bool
    seconds: float


class CrawlScheduler:
    """The scheduler of ``emplettes schedule``; usable in-process by tests.

    ``wall_limit``: seconds before a crawl subprocess is killed (default CRAWL_TIME_LIMIT
    + 60). ``poll``: how often the registry file is checked and a failed indexing retried.
    ``crawl_command``: the subprocess run for one source, ``{source}`` replaced by its id
    (default ``python -m emplettes.cli crawl --source {source}``); the scheduler's tests
    put a small script there whose timing they control.
    """

    def __init__(
        self,
        config: Config,
        *,
        wall_limit: float | None = None,
        poll: float = 5.0,
        first_run_spread: float | None = None,
        python: str = sys.executable,
        crawl_command: list[str] | None = None,
    ) -> None:
        self.config = config
        self.wall_limit = wall_limit if wall_limit is not None else config.crawl_time_limit + KILL_GRACE
        self.poll = poll
        self.jitter = max(0, int(config.schedule_jitter))
        # A source never crawled yet starts soon (spread over at most 5 minutes).
        self.first_run_spread = min(self.jitter, 300) if first_run_spread is None else first_run_spread
        self.python = python
        self.crawl_command = crawl_command or [python, "-m", "emplettes.cli", "crawl", "--source", "{source}"]
        self.registry: Registry | None = None
        self.registry_error: str | None = None
        self._registry_stamp: tuple[int, int] | None = None
        self._index_lock = threading.Lock()
        self._index_pending = False  # runs may wait to be indexed: try at the next tick
        self._index_down = False  # the index did not answer: said once, and when it is back
        self._rebuilding = threading.Event()
        self._stopping = threading.Event()
        self._children: dict[str, subprocess.Popen] = {}
        self._children_lock = threading.Lock()
        self._persisted: dict[str, tuple[str, datetime | None]] = {}
        self.results: list[CrawlResult] = []  # for tests and the log
        self.peak_running = 0  # most crawl subprocesses seen at once
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.snapshot = config.data_dir / "scheduler" / "sources.yaml"
        self.logs_dir = config.data_dir / "logs"
        self.state = IndexState(config.state_db)
        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=max(1, config.crawl_concurrency))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- the registry --------------------------------------------------------------------

    def reload_registry(self) -> bool:
        """Read ``sources.yaml`` if it changed; sync the jobs. False when it was refused."""
        path = self.config.sources_file
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            stamp = None
            if self._registry_stamp == ("missing",):
                return self.registry is not None
            self._registry_stamp = ("missing",)  # type: ignore[assignment]
            self._refuse(_("%(path)s : lecture impossible : %(why)s", path=path, why=exc.strerror or exc))
            return False
        if stamp == self._registry_stamp:
            return self.registry_error is None
        self._registry_stamp = stamp
        try:
            text = read_registry_text(path)
            registry = parse_registry(text, path)
        except RegistryError as exc:
            self._refuse("\n".join(exc.problems))
            return False
        except Exception as exc:  # whatever the file holds, the scheduler goes on with the last good one
            log.exception("%s", _("lecture de %(path)s impossible", path=path))
            self._refuse(f"{path}: {type(exc).__name__}: {exc}")
            return False
        self.registry_error = None
        self.snapshot.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.snapshot.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.snapshot)
        previous, self.registry = self.registry, registry
        self._sync_jobs(previous, registry)
        return True

    def _refuse(self, problems: str) -> None:
        self.registry_error = problems
        kept = (
            ngettext(
                "le dernier registre valide reste en vigueur (%(num)d source)",
                "le dernier registre valide reste en vigueur (%(num)d sources)",
                len(self.registry.sources),
            )
            if self.registry
            else _("aucune source planifiée")
        )
        log.error("%s\n%s", _("fichier des sources refusé, %(kept)s :", kept=kept), problems)

    def _sync_jobs(self, previous: Registry | None, registry: Registry) -> None:
        old = {s.id: s for s in previous.sources} if previous else {}
        new = {s.id: s for s in registry.sources}
        saved = self.state.schedules()
        history = set(self.state.latest_indexed()) | {p.name for p in self.config.runs_dir.glob("*") if p.is_dir()}
        for source_id in old.keys() - new.keys():
            if self.scheduler.get_job(source_id):
                self.scheduler.remove_job(source_id)
            self.state.forget_schedule(source_id)
            self._persisted.pop(source_id, None)
            log.info("%s", _("source %(id)s retirée du registre : plus planifiée", id=source_id))
        for source_id, source in new.items():
            before = old.get(source_id)
            if before == source and self.scheduler.get_job(source_id):
                continue
            schedule = source.schedule or registry.defaults.schedule
            try:
                trigger = trigger_for(schedule, jitter=self.jitter, timezone_=self.scheduler.timezone)
            except ValueError as exc:
                log.error(
                    "%s",
                    _(
                        "source %(id)s non planifiée : schedule %(spec)s : %(why)s",
                        id=source_id,
                        spec=repr(schedule),
                        why=exc,
                    ),
                )
                continue
            next_run = self._first_run(source_id, schedule, trigger, saved, history, changed=before is not None)
            if self.scheduler.get_job(source_id):
                self.scheduler.remove_job(source_id)
            self.scheduler.add_job(
                self._job,
                trigger,
                args=[source_id],
                id=source_id,
                name=f"crawl {source_id}",
                next_run_time=next_run,
                replace_existing=True,
                # one run per source at a time; runs missed while down run once, however late
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            what = _("modifiée") if before else (_("planifiée") if previous else _("chargée"))
            log.info(
                "%s",
                _(
                    "source %(id)s %(what)s : %(spec)s, prochaine collecte %(next)s",
                    id=source_id,
                    what=what,
                    spec=schedule,
                    next=_fmt(next_run),
                ),
            )
        self._persist_next_runs()

    def _first_run(self, source_id, schedule, trigger, saved, history, *, changed: bool) -> datetime:
        now = datetime.now(UTC)
        kept = saved.get(source_id)
        if kept and kept[0] == schedule and kept[1] is not None and not changed:
            return kept[1]  # resumed; in the past = missed while down: runs once, now
        if source_id not in history:
            return now + timedelta(seconds=random.uniform(0, self.first_run_spread))
        fire = trigger.get_next_fire_time(None, now.astimezone(self.scheduler.timezone))
        return fire or now

    def _persist_next_runs(self) -> None:
        for job in self.scheduler.get_jobs():
            source = self.registry.get(job.id) if self.registry else None
            if source is None:
                continue
            entry = (source.schedule or self.registry.defaults.schedule, getattr(job, "next_run_time", None))
            if self._persisted.get(job.id) != entry:
                self.state.set_next_run(job.id, entry[0], entry[1])
                self._persisted[job.id] = entry

    def run_now(self, source_id: str) -> bool:
        """Make a source's job due now (a chamber's "crawl it again"). Still one run per
        source at a time: if it is running, this start is skipped, not queued."""
        job = self.scheduler.get_job(source_id)
        if job is None:
            return False
        job.modify(next_run_time=datetime.now(self.scheduler.timezone))
        return True

    def take_crawl_requests(self) -> list[str]:
        """Crawls asked for from the dashboard (« Lancer une collecte »): one file per source in
        ``DATA_DIR/scheduler/requests``, written by the portal, which never crawls itself. Each
        is made due now and removed; a request for an unknown source is dropped, logged."""
        taken = []
        for path in sorted(self.config.crawl_requests_dir.glob("*.json")):
            source_id = path.stem
            try:
                path.unlink()
            except OSError:
                continue  # another scheduler took it
            if self.run_now(source_id):
                taken.append(source_id)
                log.info("%s", _("collecte de %(id)s demandée depuis le tableau de bord : lancée", id=source_id))
            else:
                log.warning(
                    "%s",
                    _(
                        "collecte de %(id)s demandée depuis le tableau de bord, mais cette source n'est pas planifiée",
                        id=source_id,
                    ),
                )
        return taken

    # -- one job -------------------------------------------------------------------------

    def _job(self, source_id: str) -> CrawlResult | None:
        if self._stopping.is_set():
            return None
        result = self.crawl(source_id)
        self.index()
        return result

    def crawl(self, source_id: str) -> CrawlResult:
        """Crawl one source in a subprocess, within the wall-clock limit."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **_config_env(self.config), "SOURCES_FILE": str(self.snapshot)}
        command = [part.replace("{source}", source_id) for part in self.crawl_command]
        started = time.monotonic()
        log.info("%s", _("collecte %(id)s : lancée", id=source_id))
        with open(self.logs_dir / f"schedule-{source_id}.log", "ab") as output:
            process = subprocess.Popen(
                command,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: killed whole at the limit
            )
            with self._children_lock:
                self._children[source_id] = process
                self.peak_running = max(self.peak_running, len(self._children))
            timed_out = False
            try:
                process.wait(timeout=self.wall_limit)
            except subprocess.TimeoutExpired:
                timed_out = True
                log.warning(
                    "%s",
                    _(
                        "collecte %(id)s : toujours en cours après %(seconds)s s : arrêtée",
                        id=source_id,
                        seconds=f"{self.wall_limit:.0f}",
                    ),
                )
                _kill_group(process, signal.SIGKILL)
                process.wait()
            finally:
                with self._children_lock:
                    self._children.pop(source_id, None)
        if timed_out:
            reap_dead_runs(self.config.runs_dir, pid=process.pid, reason=TIMED_OUT)
        # A crawl that died on its own (out of memory...) leaves an unfinished run: record it.
        reap_dead_runs(self.config.runs_dir)
        result = CrawlResult(source_id, process.returncode, timed_out, time.monotonic() - started)
        self.results.append(result)
        log.info(
            "%s",
            _(
                "collecte %(id)s : terminée (code %(code)s%(late)s) en %(seconds)s s",
                id=source_id,
                code=process.returncode,
                late=", " + _("délai dépassé") if timed_out else "",
                seconds=f"{result.seconds:.1f}".replace(".", ","),
            ),
        )
        return result

    def index(self) -> bool:
        """Index every finished run not yet indexed; False (retried later) if the index is down."""
        from indexer.backends.base import BackendUnavailable
        from indexer.jobs import index_runs

        if self._rebuilding.is_set():  # loaded after the rebuild, by the next tick
            self._index_pending = True
            return False
        with self._index_lock:
            try:
                reports = index_runs(self.config)
            except BackendUnavailable as exc:
                if not self._index_down:
                    log.warning(
                        "%s",
                        _(
                            "index de recherche indisponible (%(why)s) : fichiers de collecte gardés, "
                            "nouvel essai toutes les %(seconds)s s",
                            why=exc,
                            seconds=f"{self.poll:.0f}",
                        ),
                    )
                self._index_pending = self._index_down = True
                return False
            except Exception:  # never let one bad run stop the scheduler
                log.exception("%s", _("l'indexation a échoué ; nouvel essai plus tard"))
                self._index_pending = True
                return False
            if self._index_down:
                log.info(
                    "%s",
                    ngettext(
                        "index de recherche revenu : %(num)d collecte rattrapée",
                        "index de recherche revenu : %(num)d collectes rattrapées",
                        len(reports),
                    ),
                )
            self._index_pending = self._index_down = False
            for report in reports:
                log.info("%s", _("indexée %(summary)s", summary=report.summary()))
            if reports and self.config.runs_keep > 0:
                removed = prune_runs(self.config.runs_dir, self.state.outcomes(), keep=self.config.runs_keep)
                if removed:
                    log.info(
                        "%s",
                        ngettext(
                            "%(num)d ancien fichier de collecte supprimé (RUNS_KEEP=%(keep)d)",
                            "%(num)d anciens fichiers de collecte supprimés (RUNS_KEEP=%(keep)d)",
                            len(removed),
                            keep=self.config.runs_keep,
                        ),
                    )
            return True

    def _schedule_rebuild(self) -> None:
        spec = (self.config.reindex_schedule or "").strip()
        if not spec:
            return
        try:
            trigger = trigger_for(spec, timezone_=self.scheduler.timezone)
        except ValueError as exc:
            log.error(
                "%s",
                _(
                    "REINDEX_SCHEDULE %(spec)s : %(why)s : l'index n'est pas reconstruit à heure fixe",
                    spec=repr(spec),
                    why=exc,
                ),
            )
            return
        self.scheduler.add_job(
            self.rebuild,
            trigger,
            id=REBUILD_JOB,
            name="rebuild the index",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=3600,
        )
        log.info("%s", _("index reconstruit selon %(spec)s (REINDEX_SCHEDULE)", spec=spec))

    def rebuild(self) -> bool:
        """``emplettes reindex`` on ``REINDEX_SCHEDULE``: the index rebuilt from the run files
        into few segments (searches read few segments faster: docs/operations.md, "Reindexing"). Indexing
        after crawls waits for it; the portal keeps answering from the old index."""
        from indexer.reindex import reindex_job

        self._rebuilding.set()
        try:
            with self._index_lock:
                report = reindex_job(self.config)
        except Exception:  # the old index stays as it was
            log.exception(
                "%s", _("la reconstruction planifiée de l'index a échoué ; nouvel essai à sa prochaine heure")
            )
            return False
        finally:
            self._rebuilding.clear()
        log.info("%s", _("reconstruction planifiée : %(summary)s", summary=report.summary()))
        self._index_pending = True  # runs that finished meanwhile
        return True

    # -- the process ---------------------------------------------------------------------

    def start(self) -> None:
        """Load the registry, record crawls killed while we were away, start the jobs."""
        reaped = reap_dead_runs(self.config.runs_dir)
        for run in reaped:
            log.warning(
                "%s",
                _(
                    "collecte %(run)s coupée (son processus a disparu) : enregistrée comme interrompue",
                    run=f"{run.source_id}/{run.run_id}",
                ),
            )
        if not self.reload_registry() and self.registry is None:
            log.error(
                "%s",
                _(
                    "aucun registre valide pour l'instant : en attente de la correction de %(path)s",
                    path=self.config.sources_file,
                ),
            )
        self._schedule_rebuild()
        self.scheduler.start()
        self._index_pending = True  # catch up with anything left by a previous life
        self._heartbeat()

    def tick(self) -> None:
        """The periodic chores: registry edits, index catch-up, next-run table, heartbeat."""
        self.reload_registry()
        self.take_crawl_requests()
        if self._index_pending:
            self.index()
        self._persist_next_runs()
        self._heartbeat()

    def _heartbeat(self, running: bool = True) -> None:
        """``DATA_DIR/scheduler/heartbeat.json``: read by `emplettes status` and the portal
        (:func:`indexer.runlog.scheduler_status`) to tell whether the scheduler is alive."""
        import json
        import socket

        now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        if not hasattr(self, "_started_at"):
            self._started_at = now
        with self._children_lock:
            crawling = sorted(self._children)
        data = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": self._started_at,
            "seen_at": now,
            "running": running,
            "poll": self.poll,
            "crawling": crawling,
            "sources": len(self.registry.sources) if self.registry else 0,
            "registry_error": self.registry_error,
            "index_pending": self._index_pending,
        }
        path = self.snapshot.parent / "heartbeat.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stopping.wait(self.poll):
                try:
                    self.tick()
                except Exception:  # one bad chore (a full disk, a broken file) never stops the schedule
                    log.exception(
                        "%s",
                        _(
                            "les tâches du planificateur ont échoué ; nouvel essai dans %(seconds)s s",
                            seconds=f"{self.poll:.0f}",
                        ),
                    )
        finally:
            self.stop()

    def stop(self, grace: float = 10.0) -> None:
        """Stop scheduling; ask running crawls to stop (their runs end as partial), then kill."""
        self._stopping.set()
        with self._children_lock:
            children = dict(self._children)
        for process in children.values():
            _kill_group(process, signal.SIGTERM)  # Scrapy closes the run cleanly ("shutdown")
        deadline = time.monotonic() + grace
        for process in children.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(process, signal.SIGKILL)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        reap_dead_runs(self.config.runs_dir)
        self._persist_next_runs()
        self._heartbeat(running=False)
        self.state.close()

    def request_stop(self, *_: object) -> None:
        self._stopping.set()


def _config_env(config: Config) -> dict[str, str]:
    """The scheduler's configuration, handed down to its crawl subprocesses."""
    return {
        "DATA_DIR": str(config.data_dir),
        "CRAWL_DELAY": str(config.crawl_delay),
        "DOWNLOAD_TIMEOUT": str(config.download_timeout),
        "DOWNLOAD_MAXSIZE": str(config.download_maxsize),
        "CRAWL_TIME_LIMIT": str(config.crawl_time_limit),
        "CONTACT_URL": config.contact_url,
        "MAX_ERROR_RATIO": str(config.max_error_ratio),
        "SEARCH_BACKEND": config.search_backend,
        "ELASTICSEARCH_URL": config.elasticsearch_url,
    }


def _kill_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


def _fmt(when: datetime | None) -> str:
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z") if when else "—"


def run_scheduler(config: Config) -> int:
    """`emplettes schedule`: run in the foreground until SIGTERM/SIGINT."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = CrawlScheduler(config)
    signal.signal(signal.SIGTERM, scheduler.request_stop)
    signal.signal(signal.SIGINT, scheduler.request_stop)
    log.info(
        "%s",
        ngettext(
            "planificateur : %(sources)s, données dans %(data)s, au plus %(num)d collecte à la fois",
            "planificateur : %(sources)s, données dans %(data)s, au plus %(num)d collectes à la fois",
            config.crawl_concurrency,
            sources=config.sources_file,
            data=config.data_dir,
        ),
    )
    scheduler.run_forever()
    log.info("%s", _("planificateur arrêté"))
    return 0
