"""The ``emplettes`` command: one entry point above the crawler, the indexer and the portal.

Each subcommand is a small function; heavy imports (Scrapy, tantivy, Flask) happen inside
them so ``emplettes --help`` and ``sources validate`` stay instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from config import Config, ConfigError, settings_help
from config.i18n import _
from emplettes import __version__

EPILOG = "Configuration (environment variables):\n" + settings_help()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        config = Config()
    except ConfigError as exc:
        print(f"emplettes: {exc}", file=sys.stderr)
        return 2
    try:
        return args.handler(args, config) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `emplettes status | head`
        return 0
    except Exception as exc:  # the last line of defence: one line for the user, the trace in a file
        print(f"emplettes: unexpected error: {type(exc).__name__}: {exc}{_keep_trace(config)}", file=sys.stderr)
        return 1


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
    return f" (details in {path})"


def build_parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="emplettes",
        description="Nos emplettes sont nos emplois ! One regional search over what local shops already publish.",
        epilog=EPILOG,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"emplettes {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")

    def command(name: str, help: str, description: str | None = None):
        p = sub.add_parser(name, help=help, description=description or help, epilog=EPILOG, formatter_class=formatter)
        return p

    p = command(
        "demo",
        "serve the bundled sample shops, crawl and index them, then serve the portal",
        "Serve the bundled sample shop sites on 127.0.1.x, crawl every source of SOURCES_FILE with the real "
        "spiders, index the run files into the embedded backend and serve the portal on PORT.",
    )
    p.add_argument("--port", type=int, help="portal port (default: PORT or 8000)")
    p.add_argument(
        "--sites-port", type=int, default=8701, help="port of the sample shop sites (default: 8701; 0: any free port)"
    )
    p.add_argument("--no-serve", action="store_true", help="stop after indexing (do not serve the portal)")
    p.set_defaults(handler=cmd_demo)

    p = command("crawl", "crawl sources of the registry into run files (DATA_DIR/runs)")
    p.add_argument("--source", action="append", metavar="ID", help="crawl only this source (repeatable); default: all")
    p.add_argument("--index", action="store_true", help="index the finished runs afterwards")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="print Scrapy's log instead of writing it to DATA_DIR/logs"
    )
    p.set_defaults(handler=cmd_crawl)

    p = command(
        "index",
        "load run files into the search index",
        "Load run files into the search index. Without arguments: every finished run not yet indexed, oldest "
        "first. A run that did not finish well adds and updates records but never removes older ones.",
    )
    p.add_argument("run_files", nargs="*", metavar="RUN_FILE", type=Path)
    p.set_defaults(handler=cmd_index)

    p = command(
        "schedule",
        "crawl and index every source on its own schedule (runs in the foreground)",
        "Run the scheduler in the foreground (a service manager keeps it alive): one job per source of "
        "SOURCES_FILE from its `schedule` (hourly, daily, weekly, 'every 6h' or cron), each crawl in a "
        "subprocess with a time limit, then indexed. Edits to SOURCES_FILE are picked up while running.",
    )
    p.set_defaults(handler=cmd_schedule)

    p = command("status", "print each source's last run and next run")
    p.add_argument("--json", action="store_true", help="one JSON object per source")
    p.add_argument("--runs", metavar="ID", help="list the recent runs of one source instead")
    p.set_defaults(handler=cmd_status)

    p = command(
        "reindex",
        "rebuild the search index from the run files on disk, then swap it in",
        "Rebuild the whole search index (SEARCH_BACKEND) from DATA_DIR/runs: per source, its latest run that "
        "completed well plus the finished runs after it. The new index is built aside and swapped in at the end "
        "(tantivy: directory rename; Elasticsearch: alias move), so searches keep working meanwhile. Needed after "
        "an upgrade that changes the index, or after editing the synonyms file.",
    )
    p.set_defaults(handler=cmd_reindex)

    p = command(
        "serve",
        "serve the portal over the current index",
        "Serve the portal over the current index: waitress in one process by default; with --workers N > 1, "
        "gunicorn with N worker processes (sync workers, or gthread with --threads > 1). Searching uses about "
        "one core per process: on a machine with C cores, --workers C (docs/operations.md).",
    )
    p.add_argument("--port", type=int, help="default: PORT or 8000")
    p.add_argument("--host", help="default: HOST or 127.0.0.1")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes; N > 1 uses gunicorn (default: 1, waitress)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="T",
        help="threads per process (default: 8 for waitress, 1 for gunicorn: sync workers)",
    )
    p.set_defaults(handler=cmd_serve)

    p = command("sources", "work with the registry of sources")
    sources_sub = p.add_subparsers(title="sources commands", metavar="SUBCOMMAND")
    v = sources_sub.add_parser(
        "validate",
        help="check every entry of a registry file",
        description="Check every entry; print each problem as FILE:LINE: field: message. Exit status 1 on problems.",
    )
    v.add_argument("file", nargs="?", type=Path, help="default: SOURCES_FILE or sources.yaml")
    v.set_defaults(handler=cmd_sources_validate)
    a = sources_sub.add_parser(
        "add",
        help="detect a shop's platform and append an entry to the registry",
        description="Detect what the shop at URL runs, then append a valid, commented entry to the registry, "
        "keeping its comments and order. Town and postcode come from the shop's markup, or give them.",
    )
    a.add_argument("url", metavar="URL")
    a.add_argument("--file", type=Path, help="default: SOURCES_FILE or sources.yaml")
    a.add_argument("--id", help="default: from the shop's name")
    a.add_argument("--name", help="default: the name the shop's pages declare")
    a.add_argument("--town")
    a.add_argument("--postcode")
    a.add_argument(
        "--kind", choices=["website", "shopify", "woocommerce", "feed", "social"], help="do not detect: use this kind"
    )
    a.add_argument("--allow-private", action="store_true", help="allow loopback and private addresses (local tests)")
    a.add_argument("--dry-run", action="store_true", help="print the entry, do not write the file")
    a.add_argument("--chamber", metavar="ID", help=_("la chambre de la boutique (champ chamber:)"))
    a.add_argument("--json", action="store_true", help=_("un objet JSON : l'entrée, ce qui a été détecté"))
    a.set_defaults(handler=cmd_sources_add)
    ls = sources_sub.add_parser("list", help=_("lister les sources du registre, valeurs par défaut appliquées"))
    ls.add_argument("--json", action="store_true", help=_("un objet JSON par source"))
    ls.set_defaults(handler=cmd_sources_list)
    p.set_defaults(handler=lambda args, config: p.print_help() or 2)

    p = command(
        "clicks",
        "print the clicks from the portal to each shop, per day",
        "Print the clicks counted by /go/ (DATA_DIR/clicks.sqlite3): one line per day and shop, tab-separated "
        "(day, shop id, clicks). Nothing personal is stored, only these counts.",
    )
    p.add_argument("--since", help="first day, YYYY-MM-DD (default: all)")
    p.add_argument("--until", help="last day, YYYY-MM-DD (default: all)")
    p.add_argument("--shop", metavar="ID", help="only this shop")
    p.set_defaults(handler=cmd_clicks)

    p = command(
        "check",
        "preview what the portal extracts from one page (URL or saved HTML file)",
        "Fetch one page (or read a saved HTML file) and print the records it declares. With --json: one JSON "
        'object per line, "type": "product" or "shop".',
    )
    p.add_argument("target", metavar="URL_OR_FILE")
    p.add_argument("--json", action="store_true", help="JSON Lines output")
    p.add_argument("--allow-private", action="store_true", help="allow loopback and private addresses (local tests)")
    p.add_argument("--base-url", help="for a file: the address it was saved from (resolves relative links)")
    p.add_argument(
        "--kind",
        choices=["website", "shopify", "woocommerce", "feed", "social"],
        help="read the URL as this kind of source instead of detecting it",
    )
    p.add_argument("--limit", type=int, default=20, metavar="N", help="print at most N products (default: 20)")
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


# -- commands --------------------------------------------------------------------------------


def cmd_sources_validate(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry

    path = args.file or config.sources_file
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s); nothing was loaded", file=sys.stderr)
        return 1
    print(f"{path}: {len(registry.sources)} sources, all valid")
    return 0


def cmd_sources_add(args, config: Config) -> int:
    from crawler.check import CheckError
    from crawler.netguard import RefusedAddress
    from crawler.sources_add import AddError, add_source

    path = args.file or config.sources_file
    try:
        added = add_source(
            path,
            args.url,
            id=args.id,
            name=args.name,
            town=args.town,
            postcode=args.postcode,
            kind=args.kind,
            allow_private=args.allow_private,
            user_agent=config.user_agent,
            write=not args.dry_run,
            chamber=args.chamber,
        )
    except (AddError, RefusedAddress, CheckError, OSError) as exc:
        print(f"sources add: {exc}", file=sys.stderr)
        return 2
    if args.json:
        summary = {"id": added.id, "kind": added.detection.kind, "detected": added.detection.summary()}
        print(json.dumps({**summary, "entry": added.entry_text, "written": not args.dry_run}, ensure_ascii=False))
        return 0
    print(f"detected: {added.detection.summary()}")
    print(added.entry_text, end="")
    if not args.dry_run:
        print(f"{path}: added {added.id!r}")
    return 0


def cmd_sources_list(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry

    try:
        registry = load_registry(config.sources_file)
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    for source in registry.sources:
        if args.json:
            print(json.dumps(source.model_dump(mode="json", exclude={"platform"}), ensure_ascii=False))
        else:
            print(f"{source.id}\t{source.kind or '?'}\t{source.town}\t{source.chamber or '—'}\t{source.url}")
    return 0


def _registry(config: Config):
    from crawler.registry import RegistryError, load_registry

    try:
        return load_registry(config.sources_file)
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(1) from None


def cmd_crawl(args, config: Config) -> int:
    from crawler.registry import RegistryError
    from crawler.run import Progress, crawl_sources, new_run_id

    registry = _registry(config)
    try:
        sources = registry.select(args.source)
    except RegistryError as exc:
        print(exc, file=sys.stderr)
        return 2
    log_file = None if args.verbose else config.data_dir / "logs" / f"crawl-{new_run_id()}.log"
    print(f"crawling {len(sources)} source(s) into {config.runs_dir}", file=sys.stderr)
    outcomes = crawl_sources(sources, config, progress=Progress(), log_file=log_file)
    if log_file:
        print(f"log: {log_file}", file=sys.stderr)
    failed = [o for o in outcomes if not o.ok]
    if args.index:
        cmd_index(argparse.Namespace(run_files=[]), config)
    return 1 if failed and len(failed) == len(outcomes) else 0


def cmd_index(args, config: Config) -> int:
    from indexer.backends.base import BackendUnavailable
    from indexer.jobs import index_runs

    try:
        index_runs(config, run_files=list(args.run_files) or None, out=sys.stderr)
    except BackendUnavailable:
        return 3
    return 0


def cmd_schedule(args, config: Config) -> int:
    from emplettes.scheduler import run_scheduler

    return run_scheduler(config)


def cmd_status(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry
    from indexer.runlog import run_records, scheduler_line, scheduler_status, source_statuses, status_table
    from indexer.state import IndexState

    try:
        ids = [s.id for s in load_registry(config.sources_file).sources]
    except RegistryError as exc:
        print(
            f"{config.sources_file} is invalid ({len(exc.problems)} problem(s)): showing every source seen",
            file=sys.stderr,
        )
        ids = None
    with IndexState(config.state_db) as state:
        if args.runs:
            records = run_records(
                config.runs_dir, state, source_id=args.runs, limit=20, max_error_ratio=config.max_error_ratio
            )
            for r in records:
                if args.json:
                    print(json.dumps(r.to_json(), ensure_ascii=False))
                else:
                    errors = ", ".join(f"{k}×{v}" for k, v in sorted(r.errors.items())) or "no error"
                    print(
                        f"{r.run_id}  {r.outcome:<10} {r.pages:>5} pages {r.products:>5} products  {errors}  "
                        f"indexed: {r.index_outcome or 'yes' if r.indexed else 'no'}"
                    )
            return 0
        statuses = source_statuses(config.runs_dir, state, ids, max_error_ratio=config.max_error_ratio)
    if args.json:
        for status in statuses:
            print(json.dumps(status.to_json(), ensure_ascii=False))
    else:
        print(status_table(statuses))
        print(scheduler_line(scheduler_status(config.data_dir)))
    return 0


def cmd_reindex(args, config: Config) -> int:
    from indexer.backends.base import BackendUnavailable
    from indexer.reindex import reindex_job

    print(f"rebuilding the {config.search_backend} index from {config.runs_dir}", file=sys.stderr)
    try:
        reindex_job(config, out=sys.stderr)
    except BackendUnavailable as exc:
        print(f"  search index unavailable ({exc}); the current index is unchanged", file=sys.stderr)
        return 3
    return 0


def cmd_serve(args, config: Config) -> int:
    from portal import create_app
    from portal.server import serve, serve_workers, settled

    host = args.host or config.host
    port = args.port or config.port
    if args.workers < 1 or (args.threads is not None and args.threads < 1):
        print("serve: --workers and --threads must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        threads = args.threads or 1
        kind = f"gunicorn, {args.workers} workers" + (f" x {threads} threads" if threads > 1 else "")
        print(f"portal: http://{host}:{port}/ ({kind})", flush=True)
        serve_workers(lambda: create_app(config), host, port, workers=args.workers, threads=threads)
        return 0
    threads = args.threads or 8
    app = settled(create_app(config))
    print(f"portal: http://{host}:{port}/ (waitress, {threads} threads)", flush=True)
    serve(app, host, port, threads=threads)
    return 0


def cmd_clicks(args, config: Config) -> int:
    from datetime import date

    from portal.clicks import FILENAME, read_clicks

    try:
        since = date.fromisoformat(args.since) if args.since else None
        until = date.fromisoformat(args.until) if args.until else None
    except ValueError as exc:
        print(f"clicks: {exc} (expected YYYY-MM-DD)", file=sys.stderr)
        return 2
    for row in read_clicks(config.data_dir / FILENAME, since=since, until=until, shop_id=args.shop):
        print(f"{row.day}\t{row.shop_id}\t{row.count}")
    return 0


def cmd_check(args, config: Config) -> int:
    from urllib.parse import urlsplit

    from crawler.check import CheckError, check, check_platform, explain_empty, fetch

    found = None
    if args.target.startswith(("http://", "https://")) and args.kind not in (
        "website",
        "social",
    ):  # social: page markup
        try:
            found = check_platform(
                args.target,
                kind=args.kind,
                allow_private=args.allow_private,
                user_agent=config.user_agent,
                limit=max(1, args.limit),
            )
        except CheckError as exc:
            print(f"check: {exc}", file=sys.stderr)
            return 2
        print(f"detected: {found.detection.summary()}", file=sys.stderr if args.json else sys.stdout)
        _source_line(args, found.detection.kind, found.detection.products)
        if found.detection.kind != "website":
            for warning in found.warnings:
                print(f"warning: {warning}", file=sys.stderr)
            for product in found.products:
                if args.json:
                    print(json.dumps(product, ensure_ascii=False))
                else:
                    price = f"{product['price']} {product['currency'] or '?'}" if product.get("price") else "no price"
                    print(f"  product: {product['name']} — {price} — {product['availability']}")
                    print(f"           {product['url']}")
            if not found.products:
                print(f"check: the {found.detection.kind} source answered but lists no product", file=sys.stderr)
                return 1
            return 0
    try:
        result = check(
            args.target, base_url=args.base_url, allow_private=args.allow_private, user_agent=config.user_agent
        )
    except CheckError as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    records = result.records
    if found is None:
        _source_line(args, args.kind or "website", None)
    if args.json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    else:
        _print_readable(result)
    home_page = args.target.startswith(("http://", "https://")) and urlsplit(result.url).path in ("", "/")
    if not result.extraction.products and home_page and not result.extraction.login_required:
        # A home page rarely declares products: look at the pages it links to, as the crawler would.
        from crawler.check import explain_site, sample_site

        _, body = fetch(result.url, allow_private=args.allow_private, user_agent=config.user_agent)
        sample = sample_site(
            result.url, body, allow_private=args.allow_private, user_agent=config.user_agent, pages=max(args.limit, 1)
        )
        products = sample.products[: max(args.limit, 1)]
        for product in products:
            if args.json:
                print(json.dumps(product, ensure_ascii=False))
            else:
                price = f"{product['price']} {product['currency'] or '?'}" if product.get("price") else "no price"
                print(f"  product: {product['name']} — {price} — {product['availability']}")
                print(f"           {product['url']}")
        if products:
            return 0
        print(explain_site(result.url, sample), file=sys.stderr)
        return 1
    if not result.extraction.products:
        print(explain_empty(result), file=sys.stderr)
        return 1 if not records else 0
    return 0


def _source_line(args, kind: str, products: int | None) -> None:
    if args.json and args.with_source:
        print(json.dumps({"type": "source", "kind": kind, "products": products}), flush=True)


def _print_readable(result) -> None:
    ext = result.extraction
    print(f"{result.url}")
    print(f"  markup: {', '.join(ext.syntaxes) or 'none'}")
    for product in ext.products:
        price = f"{product['price']} {product['currency'] or '?'}" if product.get("price") else "no price"
        print(f"  product: {product['name']} — {price} — {product['availability']}")
        print(f"           {product['url']}")
    for shop in ext.shops:
        where = " ".join(filter(None, [shop.get("postcode"), shop.get("town")]))
        print(f"  shop: {shop['name']}{' — ' + where if where else ''}")


def cmd_demo(args, config: Config) -> int:
    from emplettes.demo import run_demo

    return run_demo(config, port=args.port or config.port, sites_port=args.sites_port, serve_portal=not args.no_serve)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
