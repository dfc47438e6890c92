"""The ``emplettes`` command: one entry point above the crawler, the indexer and the portal.

Each subcommand is a small function; heavy imports (Scrapy, tantivy, Flask) happen inside
them so ``emplettes --help`` and ``sources validate`` stay instant.

Everything it prints is French, through ``_``/``ngettext`` (:mod:`config.i18n`: another
language is a catalogue away, ``EMPLETTES_LANG``). Exit status: 0 all went well, 1 a problem
was found (an invalid registry, a failed crawl, an unreachable shop), 2 the command was used
wrongly (unknown option or id, missing file); never a traceback: the last line of defence
prints one line and keeps the trace in DATA_DIR/logs/errors.log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from config import SETTINGS, Config, ConfigError
from config.i18n import MissingCatalogue, _, ngettext, use_language
from emplettes import __version__
from emplettes.argparse_fr import FrenchArgumentParser, install

LOCALES = Path(__file__).parent / "locales"

# Exit statuses (the docstring above).
OK, PROBLEM, USAGE = 0, 1, 2


def epilog() -> str:
    settings = "\n".join(
        f"  {name} ({_('défaut : %(value)s', value=default or '—')})" for name, (default, _d) in SETTINGS.items()
    )
    return _("Réglages (variables d'environnement, détail dans docs/configuration.md) :") + "\n" + settings


def allow_private_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help=_("autorise les adresses de bouclage et privées (tests locaux)"),
    )


def main(argv: list[str] | None = None) -> int:
    install()  # argparse's own messages in French
    try:
        config = Config()
        use_language(config.language, LOCALES)
    except (ConfigError, MissingCatalogue) as exc:
        print(f"emplettes : {exc}", file=sys.stderr)
        return USAGE
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.error(_("il manque la commande (voir --help)"))
    try:
        status = args.handler(args, config) or OK
        sys.stdout.flush()  # here, not at exit: a reader that has gone is caught below
        return status
    except KeyboardInterrupt:
        print(_("interrompu"), file=sys.stderr)
        return 130
    except ConfigError as exc:  # a setting found wrong when a command uses it (OFFLINE_MAP_FILE's file)
        print(f"emplettes : {exc}", file=sys.stderr)
        return USAGE
    except BrokenPipeError:  # `emplettes status | head`: the reader has gone, nothing to say
        _silence_stdout()
        return OK
    except OSError as exc:  # a file or directory the command was given or needs
        print(f"emplettes : {_file_problem(exc)}", file=sys.stderr)
        return PROBLEM
    except UnicodeDecodeError as exc:  # a file given as text that is not UTF-8
        print(
            _(
                "emplettes : un fichier n'est pas du texte UTF-8 (octet %(byte)s à la position %(position)s) ; "
                "réenregistrez-le en UTF-8",
                byte=hex(exc.object[exc.start]),
                position=exc.start,
            ),
            file=sys.stderr,
        )
        return PROBLEM
    except Exception as exc:  # the last line of defence: one line for the user, the trace in a file
        print(
            _("emplettes : erreur inattendue : %(error)s", error=f"{type(exc).__name__}: {exc}") + _keep_trace(config),
            file=sys.stderr,
        )
        return PROBLEM


def _silence_stdout() -> None:
    """Point stdout at /dev/null: Python flushes it at exit and would complain of the pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _file_problem(exc: OSError) -> str:
    where = exc.filename or ""
    if isinstance(exc, IsADirectoryError):
        reason = _("c'est un dossier, pas un fichier")
    elif isinstance(exc, NotADirectoryError):
        reason = _("un élément du chemin n'est pas un dossier (DATA_DIR ?)")
    elif isinstance(exc, FileNotFoundError):
        reason = _("n'existe pas")
    elif isinstance(exc, PermissionError):
        reason = _("permission refusée")
    elif isinstance(exc, FileExistsError):
        reason = _("existe déjà et n'est pas un dossier (DATA_DIR ?)")
    else:
        reason = exc.strerror or str(exc)
    return f"{where} : {reason}" if where else reason


def _keep_trace(config: Config) -> str:
    """Append the current exception's traceback to DATA_DIR/logs/errors.log; say where."""
    import traceback
    from datetime import UTC, datetime

    path = config.data_dir / "logs" / "errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {' '.join(sys.argv)}\n")
            log.write(traceback.format_exc())
    except OSError:
        return ""
    return _(" (détails dans %(path)s)", path=path)


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = FrenchArgumentParser(
        prog="emplettes",
        description=_(
            "Nos emplettes sont nos emplois ! Une recherche régionale dans ce que les commerces de proximité "
            "publient déjà."
        ),
        epilog=epilog(),
        formatter_class=formatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"emplettes {__version__}", help=_("affiche la version et s'arrête")
    )
    sub = parser.add_subparsers(title=_("commandes"), metavar="COMMANDE", parser_class=FrenchArgumentParser)

    def command(name: str, help: str, description: str | None = None):
        p = sub.add_parser(name, help=help, description=description or help, epilog=epilog(), formatter_class=formatter)
        return p

    p = command(
        "demo",
        _("sert les boutiques d'exemple, les visite, les indexe puis sert le portail"),
        _(
            "Sert les sites des boutiques d'exemple sur 127.0.1.x, visite chaque source de SOURCES_FILE avec les "
            "vrais robots, indexe les fichiers de collecte dans le moteur embarqué et sert le portail sur PORT."
        ),
    )
    p.add_argument("--port", type=port_number, help=_("port du portail (défaut : PORT ou 8000)"))
    p.add_argument(
        "--sites-port",
        type=port_number,
        default=8701,
        help=_("port des sites d'exemple (défaut : 8701 ; 0 : un port libre)"),
    )
    p.add_argument("--no-serve", action="store_true", help=_("s'arrête après l'indexation (ne sert pas le portail)"))
    p.set_defaults(handler=cmd_demo)

    p = command("crawl", _("visite les sources du registre et écrit les fichiers de collecte (DATA_DIR/runs)"))
    p.add_argument(
        "--source", action="append", metavar="ID", help=_("ne visite que cette source (répétable) ; défaut : toutes")
    )
    p.add_argument("--index", action="store_true", help=_("indexe ensuite les collectes terminées"))
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=_("affiche le journal de Scrapy au lieu de l'écrire dans DATA_DIR/logs"),
    )
    p.set_defaults(handler=cmd_crawl)

    p = command(
        "index",
        _("charge des fichiers de collecte dans l'index de recherche"),
        _(
            "Charge des fichiers de collecte dans l'index de recherche. Sans argument : chaque collecte terminée "
            "pas encore indexée, de la plus ancienne à la plus récente. Une collecte qui ne s'est pas bien terminée "
            "ajoute et met à jour des fiches mais n'en retire jamais."
        ),
    )
    p.add_argument("run_files", nargs="*", metavar="FICHIER_DE_COLLECTE", type=Path)
    p.set_defaults(handler=cmd_index)

    p = command(
        "schedule",
        _("visite et indexe chaque source à son rythme (au premier plan)"),
        _(
            "Lance le planificateur au premier plan (un gestionnaire de services le maintient en vie) : une tâche "
            "par source de SOURCES_FILE selon son « schedule » (hourly, daily, weekly, « every 6h » ou cron), chaque "
            "visite dans un sous-processus limité dans le temps, puis indexée. Les modifications de SOURCES_FILE "
            "sont prises en compte en marche."
        ),
    )
    p.set_defaults(handler=cmd_schedule)

    p = command("status", _("affiche la dernière et la prochaine collecte de chaque source"))
    p.add_argument("--json", action="store_true", help=_("un objet JSON par source"))
    p.add_argument("--runs", metavar="ID", help=_("liste plutôt les collectes récentes d'une source"))
    p.set_defaults(handler=cmd_status)

    p = command(
        "reindex",
        _("reconstruit l'index de recherche depuis les fichiers de collecte, puis le met en service"),
        _(
            "Reconstruit tout l'index de recherche (SEARCH_BACKEND) depuis DATA_DIR/runs : pour chaque source, sa "
            "dernière collecte bien terminée et les collectes terminées après elle. Le nouvel index est construit à "
            "côté et mis en service à la fin (tantivy : renommage de dossier ; Elasticsearch : déplacement d'alias), "
            "les recherches continuent pendant ce temps. Nécessaire après une mise à jour qui change l'index ou "
            "après une modification du fichier de synonymes."
        ),
    )
    p.set_defaults(handler=cmd_reindex)

    p = command(
        "serve",
        _("sert le portail sur l'index actuel"),
        _(
            "Sert le portail sur l'index actuel : waitress dans un processus par défaut ; avec --workers N > 1, "
            "gunicorn avec N processus (workers sync, ou gthread avec --threads > 1). Une recherche occupe environ "
            "un cœur par processus : sur une machine à C cœurs, --workers C (docs/operations.md)."
        ),
    )
    p.add_argument("--port", type=port_number, help=_("défaut : PORT ou 8000"))
    p.add_argument("--host", help=_("défaut : HOST ou 127.0.0.1"))
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help=_("processus serveurs ; N > 1 utilise gunicorn (défaut : 1, waitress)"),
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="T",
        help=_("fils d'exécution par processus (défaut : 8 pour waitress, 1 pour gunicorn)"),
    )
    p.set_defaults(handler=cmd_serve)

    from emplettes import sources

    sources.add_parser(sub, command)

    p = command(
        "clicks",
        _("affiche les visites envoyées par le portail à chaque boutique, par jour"),
        _(
            "Affiche les clics comptés par /go/ (DATA_DIR/clicks.sqlite3) : une ligne par jour et par boutique, "
            "séparée par des tabulations (jour, identifiant, clics). Rien de personnel n'est gardé, seulement ces "
            "nombres."
        ),
    )
    p.add_argument("--since", help=_("premier jour, AAAA-MM-JJ (défaut : tous)"))
    p.add_argument("--until", help=_("dernier jour, AAAA-MM-JJ (défaut : tous)"))
    p.add_argument("--shop", metavar="ID", help=_("seulement cette boutique"))
    p.set_defaults(handler=cmd_clicks)

    p = command(
        "check",
        _("montre ce que le portail lit sur une page (adresse ou fichier HTML enregistré)"),
        _(
            "Lit une page (ou un fichier HTML enregistré) et affiche les fiches qu'elle déclare. Avec --json : un "
            'objet JSON par ligne, "type": "product" ou "shop".'
        ),
    )
    p.add_argument("target", metavar="URL_OU_FICHIER")
    p.add_argument("--json", action="store_true", help=_("sortie JSON Lines"))
    allow_private_flag(p)
    p.add_argument(
        "--base-url", help=_("pour un fichier : l'adresse d'où il a été enregistré (résout les liens relatifs)")
    )
    p.add_argument("--kind", choices=KINDS, help=_("lit l'adresse comme ce type de source au lieu de le détecter"))
    p.add_argument("--limit", type=int, default=20, metavar="N", help=_("affiche au plus N produits (défaut : 20)"))
    p.add_argument(
        "--with-source",
        action="store_true",
        help=_(
            'avec --json : d\'abord une ligne {"type": "source"} (type de site détecté, nombre de produits annoncé)'
        ),
    )
    p.set_defaults(handler=cmd_check)

    from emplettes import users

    users.add_parser(sub, command)
    return parser


# The registry's kinds (crawler.registry.Kind) but platform, which needs its platform: block;
# written here rather than imported so that --help does not load the registry's models.
KINDS = ["website", "shopify", "woocommerce", "feed", "social"]


def port_number(text: str) -> int:
    """An argparse type: a TCP port number (0: any free port)."""
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


# -- commands --------------------------------------------------------------------------------


def _registry(config: Config):
    from crawler.registry import RegistryError, load_registry

    try:
        return load_registry(config.sources_file)
    except RegistryError as exc:
        from emplettes.sources import print_problems

        print_problems(config.sources_file, exc)
        raise SystemExit(PROBLEM) from None


def _unknown_id(kind: str, wanted: str, known: set[str]) -> int:
    """``status --runs nope``, ``clicks --shop nope``: an error that names the close ids."""
    import difflib

    # A part of the id ("brulerie" for "brulerie-des-halles") first, then a typo.
    close = [k for k in sorted(known) if wanted and wanted in k][:3] or difflib.get_close_matches(
        wanted, sorted(known), n=3
    )
    if close:
        hint = _("voulez-vous dire %(ids)s ?", ids=", ".join(close))
    elif known:
        hint = _("identifiants connus : %(ids)s", ids=", ".join(sorted(known)[:8]) + (" …" if len(known) > 8 else ""))
    else:
        hint = _("aucun identifiant connu")
    print(_("%(kind)s : identifiant inconnu « %(id)s » ; %(hint)s", kind=kind, id=wanted, hint=hint), file=sys.stderr)
    return USAGE


def cmd_crawl(args, config: Config) -> int:
    from crawler.registry import RegistryError
    from crawler.run import Progress, crawl_sources, new_run_id

    registry = _registry(config)
    try:
        sources = registry.select(args.source)
    except RegistryError:
        known = {s.id for s in registry.sources}
        return _unknown_id("crawl --source", next(i for i in args.source if i not in known), known)
    log_file = None if args.verbose else config.data_dir / "logs" / f"crawl-{new_run_id()}.log"
    print(
        ngettext(
            "visite de %(num)s source vers %(dir)s",
            "visite de %(num)s sources vers %(dir)s",
            len(sources),
            dir=config.runs_dir,
        ),
        file=sys.stderr,
    )
    outcomes = crawl_sources(sources, config, progress=Progress(), log_file=log_file)
    if log_file:
        print(_("journal : %(path)s", path=log_file), file=sys.stderr)
    failed = [o for o in outcomes if not o.ok]
    if args.index:
        cmd_index(argparse.Namespace(run_files=[]), config)
    return PROBLEM if failed and len(failed) == len(outcomes) else OK


def cmd_index(args, config: Config) -> int:
    from indexer.backends.base import BackendUnavailable
    from indexer.jobs import index_runs

    for path in args.run_files:
        if not path.is_file():
            reason = _("c'est un dossier") if path.is_dir() else _("n'existe pas")
            print(
                _("index : %(path)s : %(reason)s (un fichier .jsonl de DATA_DIR/runs)", path=path, reason=reason),
                file=sys.stderr,
            )
            return USAGE
    try:
        index_runs(config, run_files=list(args.run_files) or None, out=sys.stderr)
    except BackendUnavailable:
        return PROBLEM
    return OK


def cmd_schedule(args, config: Config) -> int:
    from emplettes.scheduler import run_scheduler

    return run_scheduler(config)


def cmd_status(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry
    from indexer.load import index_outcome_label
    from indexer.runlog import (
        outcome_label,
        run_records,
        scheduler_line,
        scheduler_status,
        source_statuses,
        status_table,
    )
    from indexer.state import IndexState

    try:
        ids = [s.id for s in load_registry(config.sources_file).sources]
    except RegistryError as exc:
        print(
            ngettext(
                "%(path)s est invalide (%(num)s problème) : toutes les sources vues sont affichées",
                "%(path)s est invalide (%(num)s problèmes) : toutes les sources vues sont affichées",
                len(exc.problems),
                path=config.sources_file,
            ),
            file=sys.stderr,
        )
        ids = None
    if args.runs is not None:
        known = set(ids or []) | (
            {p.name for p in config.runs_dir.iterdir() if p.is_dir()} if config.runs_dir.is_dir() else set()
        )
        if args.runs not in known:
            return _unknown_id("status --runs", args.runs, known)
    with IndexState(config.state_db) as state:
        if args.runs is not None:
            records = run_records(
                config.runs_dir, state, source_id=args.runs, limit=20, max_error_ratio=config.max_error_ratio
            )
            for r in records:
                if args.json:
                    print(json.dumps(r.to_json(), ensure_ascii=False))
                else:
                    errors = ", ".join(f"{k}×{v}" for k, v in sorted(r.errors.items())) or _("aucune erreur")
                    indexed = index_outcome_label(r.index_outcome) if r.indexed else _("non")
                    pages = ngettext("%(num)d page", "%(num)d pages", r.pages)
                    products = ngettext("%(num)d produit", "%(num)d produits", r.products)
                    print(
                        _(
                            "%(run)s  %(outcome)s %(pages)s %(products)s  %(errors)s  indexée : %(indexed)s",
                            run=r.run_id,
                            outcome=f"{outcome_label(r.outcome):<12}",
                            pages=f"{pages:>11}",
                            products=f"{products:>14}",
                            errors=errors,
                            indexed=indexed,
                        )
                    )
            if not records:
                print(_("%(id)s : aucune collecte pour l'instant", id=args.runs), file=sys.stderr)
            return OK
        statuses = source_statuses(config.runs_dir, state, ids, max_error_ratio=config.max_error_ratio)
    if args.json:
        for status in statuses:
            print(json.dumps(status.to_json(), ensure_ascii=False))
    else:
        print(status_table(statuses))
        for status in statuses:  # a registered or detected kind passed over: the chamber should know why
            if status.last_run is not None and status.last_run.fallbacks:
                why = "; ".join(status.last_run.fallbacks)
                print(_("%(id)s : lue par le balisage des pages (%(why)s)", id=status.source_id, why=why))
        print(scheduler_line(scheduler_status(config.data_dir)))
    return OK


def cmd_reindex(args, config: Config) -> int:
    from indexer.backends.base import BackendUnavailable
    from indexer.reindex import reindex_job

    print(
        _("reconstruction de l'index %(backend)s depuis %(dir)s", backend=config.search_backend, dir=config.runs_dir),
        file=sys.stderr,
    )
    try:
        reindex_job(config, out=sys.stderr)
    except BackendUnavailable as exc:
        print(
            _("  index de recherche indisponible (%(why)s) ; l'index actuel n'a pas changé", why=exc),
            file=sys.stderr,
        )
        return PROBLEM
    return OK


def cmd_serve(args, config: Config) -> int:
    from portal import create_app
    from portal.server import serve, serve_workers, settled
    from portal.shops import load_offline_map

    host = args.host or config.host
    port = args.port if args.port is not None else config.port
    if args.workers < 1 or (args.threads is not None and args.threads < 1):
        print(_("serve : --workers et --threads doivent valoir au moins 1"), file=sys.stderr)
        return USAGE
    if not 0 <= port <= 65535:  # PORT from the environment
        print(_("serve : PORT=%(port)s n'est pas un port (0 à 65535)", port=port), file=sys.stderr)
        return USAGE
    load_offline_map(config.offline_map_file)  # a wrong file stops here, before any worker starts
    if args.workers > 1:
        threads = args.threads or 1
        kind = _("gunicorn, %(workers)s processus", workers=args.workers) + (
            _(" x %(threads)s fils", threads=threads) if threads > 1 else ""
        )
        print(_("portail : http://%(host)s:%(port)s/ (%(kind)s)", host=host, port=port, kind=kind), flush=True)
        serve_workers(lambda: create_app(config), host, port, workers=args.workers, threads=threads)
        return OK
    threads = args.threads or 8
    app = settled(create_app(config))
    print(
        _("portail : http://%(host)s:%(port)s/ (waitress, %(threads)s fils)", host=host, port=port, threads=threads),
        flush=True,
    )
    serve(app, host, port, threads=threads)
    return OK


def cmd_clicks(args, config: Config) -> int:
    from datetime import date

    from portal.clicks import FILENAME, read_clicks

    try:
        since = date.fromisoformat(args.since) if args.since else None
        until = date.fromisoformat(args.until) if args.until else None
    except ValueError:
        wrong = args.since if args.since and not _is_day(args.since) else args.until
        print(_("clicks : « %(day)s » n'est pas une date AAAA-MM-JJ (ex. 2026-11-20)", day=wrong), file=sys.stderr)
        return USAGE
    path = config.data_dir / FILENAME
    if args.shop is not None:
        from crawler.registry import RegistryError, load_registry

        try:
            known = {s.id for s in load_registry(config.sources_file).sources}
        except RegistryError:
            known = set()
        known |= {row.shop_id for row in read_clicks(path)}
        if args.shop not in known:
            return _unknown_id("clicks --shop", args.shop, known)
    for row in read_clicks(path, since=since, until=until, shop_id=args.shop):
        print(f"{row.day}\t{row.shop_id}\t{row.count}")
    return OK


def _is_day(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def cmd_check(args, config: Config) -> int:
    from crawler.check import run_check

    return run_check(
        args.target,
        kind=args.kind,
        limit=args.limit,
        as_json=args.json,
        base_url=args.base_url,
        allow_private=args.allow_private,
        user_agent=config.user_agent,
        with_source=args.json and args.with_source,
    )


def cmd_demo(args, config: Config) -> int:
    from emplettes.demo import run_demo

    return run_demo(config, port=args.port or config.port, sites_port=args.sites_port, serve_portal=not args.no_serve)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
