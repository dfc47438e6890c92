"""The real portal over given records, on either search backend, served over HTTP.

``PORTAL_BACKENDS`` parametrizes a module's portal fixture: the same HTTP tests then run on
the embedded index and on Elasticsearch (when a server is there, see backend_catalogue).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from backend_catalogue import ES_TEST_PREFIX, ON_ELASTICSEARCH

PORTAL_BACKENDS = ["tantivy", pytest.param("elasticsearch", marks=ON_ELASTICSEARCH)]


@contextmanager
def served_portal(
    records: list[dict],
    data_dir: Path,
    backend: str = "tantivy",
    *,
    prepare: Callable[[Any], None] | None = None,
    **settings: Any,
) -> Iterator[tuple[str, Any, Any]]:
    """``(base URL, app, config)`` of the portal over ``records`` on ``backend``, written
    through that backend's own ``upsert``; ``prepare(config)`` runs before the app starts."""
    from config import Config
    from indexer.search import open_backend
    from portal import create_app
    from portal.server import serving_in_thread

    if backend == "elasticsearch":
        settings |= dict(
            search_backend="elasticsearch",
            elasticsearch_url=os.environ["ELASTICSEARCH_URL"],
            elasticsearch_index=f"{ES_TEST_PREFIX}-portal-{data_dir.name}".lower(),
        )
    config = Config(data_dir=data_dir, **settings)
    writer = open_backend(config)
    try:
        writer.upsert(records)
    finally:
        writer.close()
    if prepare:
        prepare(config)
    app = create_app(config)
    with serving_in_thread(app) as url:
        yield url, app, config
