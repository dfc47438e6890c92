"""Writing: upserts, deletes by source, and the held-back bulk load of a rebuild.

A delete only hits documents added before it, so a replaced record is deleted first,
then added. ``bulk()`` (``emplettes reindex``) commits only when what it keeps in memory
reaches ``BULK_HELD_MAX`` documents held back or ``BULK_PENDING_MAX`` added, not once
per run: each commit ends segments, and searches read few segments faster. The
products in stock go to the writer at once and the other documents after them, so that
each commit leaves two segments, one where every product is in stock and one where none
is: tantivy then reads the "in stock" filter (the most used) as all of a segment or none
of it, without an intersection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

import tantivy
from tantivy import Document, Occur, Query

from indexer.backends.common import record_key
from indexer.backends.tantivy.documents import decode_record, document_fields, epoch_seconds
from indexer.backends.tantivy.query import Queries
from indexer.backends.tantivy.storage import hit_count

# What a bulk load keeps until a commit: the documents held back (a few kB each) and the
# ids of the records added.
BULK_HELD_MAX = 500_000
BULK_PENDING_MAX = 2_000_000


def _earlier(first: Any, second: Any) -> bool:
    seconds = epoch_seconds(first)
    return seconds is not None and seconds < (epoch_seconds(second) or 0)


class Writing(Queries):
    """Records into the index, and out of it."""

    _pending: dict[str, Any] | None  # in bulk(): uncommitted id -> first_seen
    _pending_runs: dict[str, set]  # in bulk(): source -> runs with uncommitted records
    _held: dict[str, tuple]  # in bulk(): id -> (source, run, first_seen, record) held back
    _held_ids: dict[str, set]  # in bulk(): source -> ids held back

    def _document(self, record: dict[str, Any]) -> Document:
        return Document.from_dict(document_fields(record), self.schema)

    def _existing(self, searcher: tantivy.Searcher, records: dict[str, dict]) -> set[str]:
        """Ids of ``records`` already in the index (committed)."""
        if not searcher.num_docs:  # a rebuild's fresh index, until its first commit
            return set()
        hits = searcher.search(self._terms("id", records), len(records), count=False).hits
        if not hits:
            return set()
        keys: list[Any] = searcher.fast_field_values("key", [address for _, address in hits])
        by_key = {record_key(record_id): record_id for record_id in records}
        return {by_key[key] for key in keys if key in by_key}

    def first_seen(self, ids: Iterable[str]) -> dict[str, Any]:
        """The ``first_seen`` of the products among ``ids`` already written: committed, or
        (in bulk()) added or held back since the last commit; the earliest when both."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Any] = {}
        if not wanted:
            return found
        with self._lock:
            searcher = self._searcher()
            if searcher.num_docs:
                hits = searcher.search(self._terms("id", wanted), len(wanted), count=False).hits
                for _, address in hits:
                    stored = decode_record(searcher.doc(address).get_first("record"))
                    if stored.get("type") == "product" and stored.get("first_seen"):
                        found[stored["id"]] = stored["first_seen"]
            pending = self._pending or {}
            for record_id in wanted:
                if record_id in pending:
                    uncommitted = pending[record_id]
                elif record_id in self._held:
                    uncommitted = self._held[record_id][2]
                else:
                    continue
                if uncommitted and (record_id not in found or _earlier(uncommitted, found[record_id])):
                    found[record_id] = uncommitted
        return found

    @contextlib.contextmanager
    def bulk(self) -> Iterator[None]:
        """Upserts commit when ``BULK_HELD_MAX`` documents are held back or
        ``BULK_PENDING_MAX`` added, and when the block ends, instead of once per call.
        Records added and not yet committed are tracked by id,
        so a later run of the same source still replaces them and keeps their first_seen,
        and a sweep commits them first when it could delete them. An error inside the
        block rolls back what is not committed yet.

        The products in stock go to the writer at once; the other documents are held back
        and written after them, so that each commit leaves two segments: one where every
        product is in stock, one where none is. Tantivy then reads the "in stock" filter
        as all of a segment or none of it (a segment where a term is in every document
        needs no intersection): counting words in stock is then far cheaper than with
        the products mixed."""
        with self._lock:
            if self._pending is not None:  # nested: the outer block commits
                yield
                return
            self._pending, self._pending_runs = {}, {}
            try:
                yield
                self._commit_pending()
            except BaseException:
                if self._writer is not None:  # (records, deletes, held documents half written)
                    self._writer.rollback()
                raise
            finally:
                self._pending, self._pending_runs = None, {}
                self._held, self._held_ids = {}, {}

    def _commit_pending(self) -> None:
        """Commit the writer (in bulk(), the products in stock and the deletes), then the
        documents held back, as a segment of their own. A failure while writing those
        leaves the first commit in: bulk() serves rebuilds into a fresh index, which a
        failure throws away."""
        if self._pending or self._pending_runs:
            self._commit()
            if self._pending is not None:
                self._pending.clear()
            self._pending_runs.clear()
        if self._held:
            held, self._held, self._held_ids = self._held, {}, {}
            writer = self._get_writer()
            try:
                for _, _, _, record in held.values():
                    writer.add_document(self._document(record))
            except BaseException:
                writer.rollback()
                raise
            self._commit()

    def _hold(self, record: dict[str, Any]) -> bool:
        """Hold ``record`` back until the commit (in bulk(), every document but the products
        in stock); False: it goes to the writer now."""
        if self._pending is None or (record.get("type") == "product" and record.get("availability") == "in_stock"):
            return False
        source = record["source_id"]
        # (As dicts: orjson's bytes, kept for long, left 8 kB of fragmented heap each.)
        self._held[record["id"]] = (source, record.get("run_id"), record.get("first_seen"), record)
        self._held_ids.setdefault(source, set()).add(record["id"])
        return True

    def _unhold(self, record_id: str) -> None:
        held = self._held.pop(record_id, None)
        if held is not None:
            self._held_ids[held[0]].discard(record_id)

    def upsert(self, records: Iterable[dict[str, Any]]) -> int:
        """Write ``records`` as one batch (callers batch: see indexer.load). Their
        ``first_seen`` is written as given: the loader keeps the older ones."""
        with self._lock:
            pending = self._pending
            bulk = pending is not None
            # Ids added and not yet visible to the searcher -> their first_seen: this call's,
            # or in bulk() every one since the last commit.
            added: dict[str, Any] = pending if pending is not None else {}
            writer = self._get_writer()
            searcher = self._searcher()
            try:
                # Last occurrence of an id wins; copies so callers' dicts stay untouched.
                unique = {record["id"]: dict(record) for record in records}
                self._delete_replaced(writer, self._existing(searcher, unique), unique, added)
                for record in unique.values():
                    if record["id"] in added:  # held now, after its version in the writer
                        added.pop(record["id"])
                    if self._hold(record):
                        continue
                    writer.add_document(self._document(record))
                    added[record["id"]] = record.get("first_seen")
                    if bulk:
                        self._pending_runs.setdefault(record["source_id"], set()).add(record.get("run_id"))
            except BaseException:
                writer.rollback()  # in bulk(), also what earlier calls left uncommitted
                added.clear()
                self._pending_runs.clear()
                self._held.clear()
                self._held_ids.clear()
                raise
            if unique and not bulk:
                self._commit()
            elif bulk and (len(self._held) >= BULK_HELD_MAX or len(added) >= BULK_PENDING_MAX):
                self._commit_pending()
        return len(unique)

    def _delete_replaced(
        self, writer: tantivy.IndexWriter, replaced: set[str], unique: dict[str, dict], added: dict[str, Any]
    ) -> None:
        """Delete the earlier versions of ``unique``'s records: committed (``replaced``),
        added since the last commit, or held back (never written: dropped)."""
        for record_id in unique:  # (not keys() & keys(): a set of all pending ids)
            if record_id in added:
                replaced.add(record_id)
            elif record_id in self._held:  # (a newer version replaces it)
                self._unhold(record_id)
        # A delete only hits documents added before it: delete first, then add. Deleting
        # only ids that exist keeps a first load cheap.
        if replaced:
            writer.delete_documents_by_query(self._terms("id", replaced))
            if self._pending is not None:  # uncommitted deletes: a sweep of these sources commits first
                for record_id in replaced:
                    self._pending_runs.setdefault(unique[record_id]["source_id"], set())

    def delete_source(self, source_id: str, *, keep_run: str | None = None) -> int:
        query = self._term("source_id", source_id)
        if keep_run is not None:
            query = Query.boolean_query([(Occur.Must, query), (Occur.MustNot, self._term("run_id", keep_run))])
        with self._lock:
            held = [i for i in self._held_ids.get(source_id, ()) if keep_run is None or self._held[i][1] != keep_run]
            for record_id in held:  # held back (bulk()): never written
                self._unhold(record_id)
            if self._pending_runs.get(source_id, set()) - {keep_run}:
                self._commit_pending()  # uncommitted records this sweep must see
            writer = self._get_writer()
            count = hit_count(self._searcher().search(query, 1, count=True))
            if count and source_id in self._pending_runs:
                # Some of those may be replaced by uncommitted records of the kept run:
                # commit them (held ones too: never a delete without its replacement),
                # then count what really goes.
                self._commit_pending()
                count = hit_count(self._searcher().search(query, 1, count=True))
            if count:
                writer.delete_documents_by_query(query)
                self._commit()
                if self._pending is not None:  # (bulk) that commit took what the writer had too
                    self._pending.clear()
                    self._pending_runs.clear()
        return count + len(held)
