"""``emplettes demo``: the whole regional search, offline, on one machine.

Serves the bundled sample shop sites on loopback hosts, crawls every source of the
registry with the real spiders (in a subprocess, as the scheduler does), indexes the run
files into the configured backend (``SEARCH_BACKEND``) and serves the portal. Sample shops
served on another port than the registry's are crawled through a registry written for
them in ``DATA_DIR``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from config import Config


def run_demo(config: Config, *, port: int, sites_port: int = 8701, serve_portal: bool = True) -> int:
    """The sample shops served on ``sites_port`` (0: any free port), crawled, indexed into
    the configured backend, and the portal served on ``port`` unless ``serve_portal`` is off."""
    from samples import DEFAULT_PORT, SampleSites, write_sources_yaml

    print("emplettes demo — « Nos emplettes sont nos emplois ! »", flush=True)
    try:
        sites = SampleSites(port=sites_port).start()
    except OSError as exc:
        print(f"demo: cannot serve the sample shops on port {sites_port}: {exc} (try --sites-port)", file=sys.stderr)
        return 2
    try:
        print(f"1/3 sample shops: {len(sites.base_urls)} sites on 127.0.1.x:{sites.port}", flush=True)
        sources_file = config.sources_file
        if sites.port != DEFAULT_PORT:  # the bundled registry points at the default port
            sources_file = config.data_dir / "demo-sources.yaml"
            config.data_dir.mkdir(parents=True, exist_ok=True)
            write_sources_yaml(sources_file, sites.base_urls)
        print(f"2/3 crawling every source of {sources_file}", flush=True)
        # A subprocess, as the scheduler does: Twisted's reactor cannot restart in-process.
        env = {**os.environ, "DATA_DIR": str(config.data_dir), "SOURCES_FILE": str(sources_file)}
        crawl = subprocess.run([sys.executable, "-m", "emplettes.cli", "crawl"], env=env, check=False)
        if crawl.returncode not in (0,):
            print(f"demo: the crawl ended with status {crawl.returncode}; indexing what it collected", file=sys.stderr)
        print("3/3 indexing the run files", flush=True)
        from indexer.jobs import index_runs

        index_runs(config, out=sys.stdout)
        if not serve_portal:
            return 0
        from portal import create_app
        from portal.server import serve

        app = create_app(config)
        print(f"\nportal ready: http://{config.host}:{port}/  (Ctrl+C to stop)", flush=True)
        serve(app, config.host, port)
        return 0
    finally:
        sites.stop()
