"""A rebuild killed with -9 on Elasticsearch leaves an index no alias points to: the next
`emplettes index` or `reindex` deletes it, and only it.

On the real shared server: the real `emplettes reindex` in a subprocess, killed with
SIGKILL once its fresh version exists outside the alias, then the real next command.
Beside it, what is not the next command's to delete: a version another machine is
building (kept a day), one a live process here is building, another project's rebuild under way, made the way
the backend makes one (``start_rebuild``), and an index another tool named
``<prefix>-vitrine``, which the wildcard ``<prefix>-v*`` matches too. (Elasticsearch
refuses a second project whose index template overlaps ours, so no project's versions can
share our ``<prefix>-v<digits>`` names.)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from backend_catalogue import ES_TEST_PREFIX, ON_ELASTICSEARCH
from run_files import RUN1, product, shop, write_run

from indexer.backends.base import SearchQuery
from indexer.backends.elasticsearch_backend import REBUILT_BY, ElasticsearchBackend

pytestmark = ON_ELASTICSEARCH

SOURCES = ("cire-meche", "cire-nord", "cire-sud", "cire-est")
PER_SOURCE = 2000


def environment(data_dir: Path, prefix: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SEARCH_BACKEND": "elasticsearch",
        "ELASTICSEARCH_INDEX": prefix,
        "SOURCES_FILE": str(data_dir / "none"),
    }


def versions(client, prefix: str) -> dict[str, set[str]]:
    """Every index named ``<prefix>-v*`` -> the aliases pointing to it."""
    found = client.indices.get_alias(index=f"{prefix}-v*", expand_wildcards="all", ignore_unavailable=True)
    return {name: set(entry.get("aliases") or {}) for name, entry in found.items()}


def orphans(client, prefix: str, *, but: tuple[str, ...] = ()) -> list[str]:
    return sorted(
        name
        for name, aliases in versions(client, prefix).items()
        if prefix not in aliases and name[len(prefix) + 2 :].isdigit() and name not in but
    )


@pytest.mark.parametrize("next_command", ["index", "reindex"])
def test_a_rebuild_killed_with_sigkill_leaves_an_orphan_index_the_next_command_deletes(tmp_path, next_command):
    url = os.environ["ELASTICSEARCH_URL"]
    prefix = f"{ES_TEST_PREFIX}-orphelin-{uuid.uuid4().hex[:8]}"
    for source in SOURCES:
        write_run(
            tmp_path / "runs",
            RUN1,
            [shop(source)] + [product(n, source_id=source) for n in range(PER_SOURCE)],
            source_id=source,
        )
    env = environment(tmp_path, prefix)
    first = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "index"], env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr

    # Another project whose alias begins like ours, with its own rebuild under way, and an index of another tool.
    neighbour = ElasticsearchBackend(url, prefix=f"{prefix}-autre", replicas=0)
    neighbours_rebuild = neighbour.start_rebuild()._write_index
    client = ElasticsearchBackend(url, prefix=prefix, readonly=True)
    client.client.indices.create(index=f"{prefix}-vitrine")
    # A rebuild under way on another machine indexing into the same cluster, named and
    # marked as start_rebuild does there: kept until a day old (its builder cannot be asked).
    elsewhere = client.new_index_name()
    builder = {"host": "autre-machine.example", "pid": os.getpid()}
    client.client.indices.create(index=elsewhere, mappings={"_meta": {REBUILT_BY: builder}})
    # One this machine's live process is building (this test's): never deleted while it lives.
    here = client.new_index_name()
    builder = {"host": socket.gethostname(), "pid": os.getpid()}
    client.client.indices.create(index=here, mappings={"_meta": {REBUILT_BY: builder}})
    live = [name for name, aliases in versions(client.client, prefix).items() if prefix in aliases]
    try:
        rebuild = subprocess.Popen(
            [sys.executable, "-m", "emplettes.cli", "reindex"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while not orphans(client.client, prefix, but=(elsewhere, here)):
                assert rebuild.poll() is None, "the rebuild ended before it could be killed: give it more runs"
                assert time.monotonic() < deadline, "gave up waiting for the rebuild's fresh version"
                time.sleep(0.05)
            rebuild.send_signal(signal.SIGKILL)
            rebuild.wait(timeout=30)
        finally:
            if rebuild.poll() is None:
                rebuild.kill()
                rebuild.wait()
        left = orphans(client.client, prefix, but=(elsewhere, here))
        assert len(left) == 1  # the killed rebuild's version, outside the alias...

        result = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", next_command], env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr
        assert orphans(client.client, prefix) == sorted([elsewhere, here])  # ...deleted by the next command
        assert f"index Elasticsearch d'une reconstruction interrompue supprimé : {left[0]}" in result.stderr
        # The alias still answers, with every product; the neighbour's rebuild is untouched.
        behind = [name for name, aliases in versions(client.client, prefix).items() if prefix in aliases]
        assert len(behind) == 1 and (next_command == "reindex" or behind == live)
        assert client.search(SearchQuery(per_page=1)).total == len(SOURCES) * PER_SOURCE
        assert neighbours_rebuild in versions(client.client, f"{prefix}-autre")
        assert client.client.indices.exists(index=f"{prefix}-vitrine")
        assert neighbours_rebuild not in result.stderr and "vitrine" not in result.stderr
        # The other machine's version, a day later (the grace set to 0 rather than waited for).
        writer = ElasticsearchBackend(url, prefix=prefix)
        assert writer.remove_orphan_versions(grace=0) == [elsewhere]
        writer.close()
        assert orphans(client.client, prefix) == [here]
    finally:
        client.close()
        neighbour.close()
