"""Where the index lives: its directory, the right to write it, commits and rebuilds.

* Only one process may hold the writer; it is opened lazily and never by a read-only
  instance (the portal).
* Readers call ``reload()`` before a read when ``meta.json`` changed, to see other
  processes' commits; ``meta.json``'s stat is the index *generation*, the key of every
  cache (see ``cache``).
* ``emplettes reindex`` builds a fresh directory beside ``path`` and swaps it in with two
  renames; readers notice the new directory (its inode) and reopen it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import tantivy

from config.i18n import _
from indexer.backends.base import BackendUnavailable, SearchBackend
from indexer.backends.tantivy.cache import SearchCache
from indexer.backends.tantivy.schema import open_index

# A rebuild's writer: one indexing thread and a large memory budget, so that each commit
# of the rebuild leaves two segments, the products in stock and the rest (see
# writing.Writing.bulk; tantivy ends a segment whenever a thread's budget fills, and merges
# only later, in the background). The budget is a ceiling, taken as it fills.
REBUILD_WRITER_HEAP = 2_000_000_000
REBUILD_LOCK_WAIT = 1800.0  # seconds a rebuild waits for a loader to finish before its swap

Generation = tuple[int, int, int] | None


def hit_count(result: Any) -> int:
    """The match count of a search run with ``count=True`` (the type stubs of tantivy 0.27
    lack ``SearchResult.count``)."""
    return result.count


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class Storage(SearchBackend):
    """The index directory, its writer and its generation. Subclasses find the index in
    ``_index`` and its schema in ``schema``, both replaced when a rebuild swaps them."""

    path: Path
    readonly: bool
    schema: tantivy.Schema
    _index: tantivy.Index
    _directory: int | None
    _meta_json: str
    _lock: threading.RLock
    _writer: tantivy.IndexWriter | None
    _writer_heap: int
    _writer_threads: int
    _path_lock: IO[bytes] | None
    _reloaded: tuple | None
    _cache: SearchCache

    def _open(self) -> None:
        """(Re)open the index in ``path``: a new directory has its own generations."""
        self._index, self.schema = open_index(self.path)
        self._directory = self._dir_identity()
        self._cache.reset()

    def _dir_identity(self) -> int | None:
        try:
            return os.stat(self.path).st_ino
        except OSError:
            return None

    def _follow_swap(self) -> None:
        """After ``emplettes reindex`` swapped a rebuilt index into ``path``, a long-lived
        reader (the portal) reopens it instead of serving the old, deleted one."""
        if self._writer is not None:
            return
        identity = self._dir_identity()
        if identity is not None and identity != self._directory:
            with self._lock:
                try:
                    self._open()
                except BackendUnavailable:
                    return  # mid-swap: keep the old one until the next search

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            try:
                if self._writer is not None:
                    writer, self._writer = self._writer, None
                    writer.wait_merging_threads()  # also releases tantivy's writer lock
            finally:
                self._release_path_lock()
                self._close_helpers()

    def _close_helpers(self) -> None:
        """Stop what else this handle started (see facets' thread pool)."""

    # The right to write ``path``, held beside it (``<path>.lock``) from a writer's opening to
    # its closing: tantivy's own lock lives inside the directory, so a rebuild swapping the
    # directory could not keep it across the renames, and a loader arriving in between would
    # write into the new index through the old one's state.

    def _take_path_lock(self, wait: float = 0.0) -> None:
        if self._path_lock is not None:
            return
        handle = open(_lock_file(self.path), "a+b")  # noqa: SIM115 (kept open while writing)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    handle.close()
                    raise BackendUnavailable(
                        _("impossible d'écrire l'index dans %(path)s : un autre processus indexe", path=self.path)
                    ) from None
                time.sleep(0.2)
        self._path_lock = handle

    def _release_path_lock(self) -> None:
        if self._path_lock is not None:
            self._path_lock.close()  # closing the file releases the lock
            self._path_lock = None

    def _searcher(self, generation: Any = ...) -> tantivy.Searcher:
        """A searcher that sees every commit, also other processes': ``reload()`` only
        when ``meta.json`` changed since the last one."""
        self._follow_swap()
        if generation is ...:
            generation = self._generation()
        index = self._index
        if generation is None or self._reloaded != (index, generation):
            # Stat before reload: a commit in between is seen now and reloaded again next time.
            index.reload()
            self._reloaded = (index, generation)
        return index.searcher()

    def _generation(self) -> Generation:
        """Changes with every commit (meta.json is rewritten): the caches' key."""
        try:
            stat = os.stat(self._meta_json)
        except OSError:
            return None
        return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

    def _reloaded_generation(self) -> Generation:
        """The generation the last ``reload()`` saw (None: unknown)."""
        return self._reloaded[1] if self._reloaded else None

    def cache_token(self) -> Generation:
        self._follow_swap()
        return self._generation()

    def _get_writer(self) -> tantivy.IndexWriter:
        if self.readonly:
            raise PermissionError(_("%(index)s : index ouvert en lecture seule", index=self.path))
        if self._writer is None:
            self._take_path_lock()
            # A rebuild may have swapped the directory since this handle opened it: write
            # into the index that is there now, never through the replaced one's state.
            self._follow_swap()
            try:
                self._writer = self._index.writer(self._writer_heap, self._writer_threads)
            except Exception as exc:  # LockBusy: another process is indexing
                self._release_path_lock()
                raise BackendUnavailable(
                    _("impossible d'écrire l'index dans %(path)s : %(why)s", path=self.path, why=exc)
                ) from exc
        return self._writer

    def _commit(self) -> None:
        assert self._writer is not None
        try:
            self._writer.commit()
        except Exception as exc:
            self._writer.rollback()
            raise BackendUnavailable(
                _("échec de l'écriture de l'index dans %(path)s : %(why)s", path=self.path, why=exc)
            ) from exc
        self._index.reload()

    # ------------------------------------------------------------------ rebuild

    @classmethod
    def for_rebuild(cls, path: Path, **options: Any) -> Storage:
        """A handle on ``path`` that does not open the index there (it may have been built
        with another schema): only good for start/finish_rebuild, which replace it."""
        return cls(path, open_index=False, **options)  # type: ignore[call-arg]

    def start_rebuild(self) -> Storage:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        fresh_path = self.path.with_name(f"{self.path.name}.rebuild-{stamp}")
        return type(self)(  # type: ignore[call-arg]
            fresh_path, writer_heap_bytes=max(self._writer_heap, REBUILD_WRITER_HEAP), writer_threads=1
        )

    def finish_rebuild(self, fresh: SearchBackend, before_swap: Callable[[], None] | None = None) -> None:
        """Two renames swap the directories (readers in other processes follow the new
        one on their next search); the old index is then deleted. The right to write
        ``path`` is taken first (a loader at work is waited for, up to
        ``REBUILD_LOCK_WAIT`` seconds) and kept until the new index is in: ``before_swap``
        runs meanwhile, and no loader writes into the index being replaced."""
        assert isinstance(fresh, Storage)
        with self._lock:
            self._take_path_lock(wait=REBUILD_LOCK_WAIT)
            try:
                if self._writer is not None:  # this handle's own: its merges end before the swap
                    writer, self._writer = self._writer, None
                    writer.wait_merging_threads()
                if before_swap is not None:
                    before_swap()
                fresh.close()
                _lock_file(fresh.path).unlink(missing_ok=True)
                old = self.path.with_name(f"{self.path.name}.old-{fresh.path.name.rsplit('-', 1)[-1]}")
                if self.path.exists():
                    os.replace(self.path, old)
                os.replace(fresh.path, self.path)
            finally:
                self._release_path_lock()
            self._open()
        shutil.rmtree(old, ignore_errors=True)

    def abort_rebuild(self, fresh: SearchBackend) -> None:
        assert isinstance(fresh, Storage)
        fresh.close()
        shutil.rmtree(fresh.path, ignore_errors=True)
        _lock_file(fresh.path).unlink(missing_ok=True)
