"""The embedded (tantivy) search backend, cut by role: see :mod:`.backend`."""

from indexer.backends.tantivy.backend import TantivyBackend

__all__ = ["TantivyBackend"]
