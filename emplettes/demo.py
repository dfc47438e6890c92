"""``emplettes demo``: the whole regional search, offline, on one machine.

Serves the bundled sample shop sites on loopback hosts, crawls every source of the
registry with the real spiders (in a subprocess, as the scheduler does), indexes the run
files into the configured backend (``SEARCH_BACKEND``) and serves the portal. Sample shops
served on another port than the registry's are crawled through a registry written for
them in ``DATA_DIR``.

The sample shops are the whole federation (:mod:`samples.federation`): markup sites, a
Shopify shop in a market sub-folder, WooCommerce in a sub-folder, a Merchant feed, the
chamber's platform hosting several shops, a social page. The registry leaves their kinds
to detection; once indexed, the demo prints each source's kind, how it was found, and its
product count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from config import Config
from config.i18n import _, ngettext


def run_demo(config: Config, *, port: int, sites_port: int = 8701, serve_portal: bool = True) -> int:
    """The sample shops served on ``sites_port`` (0: any free port), crawled, indexed into
    the configured backend, and the portal served on ``port`` unless ``serve_portal`` is off."""
    from samples import DEFAULT_PORT, write_sources_yaml
    from samples.federation import FederationSites

    print(_("emplettes demo — « Nos emplettes sont nos emplois ! »"), flush=True)
    try:
        sites = FederationSites(port=sites_port).start()
    except OSError as exc:
        print(
            _(
                "demo : impossible de servir les boutiques d'exemple sur le port %(port)s : %(why)s "
                "(essayez --sites-port)",
                port=sites_port,
                why=exc,
            ),
            file=sys.stderr,
        )
        return 2
    try:
        print(
            _("1/3 boutiques d'exemple : %(n)s sites sur 127.0.1.x:%(port)s", n=len(sites.base_urls), port=sites.port),
            flush=True,
        )
        sources_file = config.sources_file
        if sites.port != DEFAULT_PORT:  # the bundled registry points at the default port
            sources_file = config.data_dir / "demo-sources.yaml"
            config.data_dir.mkdir(parents=True, exist_ok=True)
            write_sources_yaml(sources_file, sites.base_urls)
        print(_("2/3 collecte de chaque source de %(file)s", file=sources_file), flush=True)
        # A subprocess, as the scheduler does: Twisted's reactor cannot restart in-process.
        env = {**os.environ, "DATA_DIR": str(config.data_dir), "SOURCES_FILE": str(sources_file)}
        crawl = subprocess.run([sys.executable, "-m", "emplettes.cli", "crawl"], env=env, check=False)
        if crawl.returncode not in (0,):
            print(
                _(
                    "demo : la collecte a fini avec le code %(code)s ; indexation de ce qu'elle a lu",
                    code=crawl.returncode,
                ),
                file=sys.stderr,
            )
        print(_("3/3 indexation des fichiers de collecte"), flush=True)
        from indexer.jobs import index_runs

        index_runs(config, out=sys.stdout)
        print_kinds(config.runs_dir, list(sites.base_urls), out=sys.stdout)
        if not serve_portal:
            return 0
        from portal import create_app
        from portal.server import serve

        app = create_app(config)
        print(
            "\n" + _("portail prêt : http://%(host)s:%(port)s/  (Ctrl+C pour arrêter)", host=config.host, port=port),
            flush=True,
        )
        serve(app, config.host, port)
        return 0
    finally:
        sites.stop()


def latest_manifests(runs_dir: Path, source_ids: list[str]) -> dict[str, dict]:
    """Each source's last run manifest (``{}`` when it has none)."""
    out: dict[str, dict] = {}
    for source_id in source_ids:
        manifests = sorted((runs_dir / source_id).glob("*.json"))
        try:
            out[source_id] = json.loads(manifests[-1].read_text(encoding="utf-8")) if manifests else {}
        except (OSError, ValueError):
            out[source_id] = {}
    return out


def print_kinds(runs_dir: Path, source_ids: list[str], out) -> None:
    """One line per source: its kind (detected or registered), how, and its products."""
    manifests = latest_manifests(runs_dir, source_ids)
    width = max((len(s) for s in source_ids), default=10)
    print("\n" + _("Sources, type lu et produits :"), file=out)
    for source_id, manifest in manifests.items():
        detection = manifest.get("detection") or {}
        how = detection.get("summary") or _("type inscrit au registre")
        count = ngettext("%(num)d produit", "%(num)d produits", manifest.get("products", 0))
        print(f"  {source_id:<{width}}  {manifest.get('kind', '?'):<11}  {count:>12}   {how}", file=out)
        for why in detection.get("fallbacks") or []:
            print(f"  {'':<{width}}  {'':<11}  {'':>12}   {_('repli')} : {why}", file=out)
