"""``emplettes sources``: the chamber's registry from the command line.

``validate`` checks every entry, ``add`` detects one shop and appends its entry (comments
and order kept), ``import`` brings a chamber's CSV or .xlsx list in with one write, ``list``
prints the entries with the defaults applied. The work is in :mod:`crawler.registry`,
:mod:`crawler.sources_add` and :mod:`crawler.sources_import`; this module is their words
and exit statuses (:mod:`emplettes.cli`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from config import Config
from config.i18n import _, ngettext
from emplettes.argparse_fr import FrenchArgumentParser
from emplettes.cli import KINDS, OK, PROBLEM, USAGE, allow_private_flag


def add_parser(sub, command) -> None:
    """The ``sources`` command and its subcommands, on the main parser's ``sub``."""
    p = command("sources", _("travaille sur le registre des sources"))
    sources_sub = p.add_subparsers(
        title=_("commandes de sources"), metavar="SOUS_COMMANDE", parser_class=FrenchArgumentParser
    )
    v = sources_sub.add_parser(
        "validate",
        help=_("vérifie chaque entrée d'un fichier de registre"),
        description=_(
            "Vérifie chaque entrée ; affiche chaque problème sous la forme FICHIER:LIGNE: champ : message, avec un "
            "conseil. Code de sortie 1 s'il y a des problèmes."
        ),
    )
    v.add_argument("file", nargs="?", type=Path, metavar="FICHIER", help=_("défaut : SOURCES_FILE ou sources.yaml"))
    v.set_defaults(handler=cmd_sources_validate)
    a = sources_sub.add_parser(
        "add",
        help=_("détecte la plateforme d'une boutique et ajoute son entrée au registre"),
        description=_(
            "Détecte ce que fait tourner la boutique à l'adresse URL, montre ce qui a été détecté, puis ajoute une "
            "entrée valide et commentée à la fin du registre, en gardant ses commentaires et son ordre (sur un "
            "terminal, après confirmation). La commune et le code postal viennent des pages de la boutique, ou "
            "donnez-les."
        ),
    )
    a.add_argument("url", metavar="URL")
    a.add_argument("--file", type=Path, metavar="FICHIER", help=_("défaut : SOURCES_FILE ou sources.yaml"))
    a.add_argument("--id", help=_("défaut : tiré du nom de la boutique"))
    a.add_argument("--name", help=_("défaut : le nom que déclarent les pages de la boutique"))
    a.add_argument("--town", help=_("commune"))
    a.add_argument("--postcode", help=_("code postal (cinq chiffres)"))
    a.add_argument("--kind", choices=KINDS, help=_("ne détecte pas : utilise ce type"))
    allow_private_flag(a)
    a.add_argument("--dry-run", action="store_true", help=_("affiche l'entrée sans écrire le fichier"))
    a.add_argument("--yes", "-y", action="store_true", help=_("écrit sans demander de confirmation"))
    a.add_argument("--chamber", metavar="ID", help=_("la chambre de la boutique (champ chamber:)"))
    a.add_argument(
        "--json", action="store_true", help=_("un objet JSON : l'entrée, ce qui a été détecté (écrit sans demander)")
    )
    a.set_defaults(handler=cmd_sources_add)
    i = sources_sub.add_parser(
        "import",
        help=_("inscrit les boutiques d'une liste CSV ou .xlsx"),
        description=_(
            "Lit une liste de commerces (CSV ou .xlsx : colonnes nom, site, commune, code postal, catégories, "
            "services, téléphone, adresse…), détecte chaque boutique comme « sources add », puis écrit le registre "
            "une seule fois, à la fin, avec un compte rendu par ligne (ajoutée, déjà inscrite, injoignable, aucun "
            "produit trouvé, invalide). Rien n'est écrit si le résultat ne se chargerait pas. Code de sortie 1 si "
            "une ligne est à revoir."
        ),
    )
    i.add_argument("list_file", type=Path, metavar="LISTE", help=_("fichier .csv ou .xlsx"))
    i.add_argument("--file", type=Path, metavar="FICHIER", help=_("registre (défaut : SOURCES_FILE ou sources.yaml)"))
    allow_private_flag(i)
    i.add_argument("--dry-run", action="store_true", help=_("affiche le compte rendu sans écrire le registre"))
    i.add_argument("--yes", "-y", action="store_true", help=_("écrit sans demander de confirmation"))
    i.set_defaults(handler=cmd_sources_import)
    ls = sources_sub.add_parser("list", help=_("liste les sources du registre, valeurs par défaut appliquées"))
    ls.add_argument("--json", action="store_true", help=_("un objet JSON par source"))
    ls.set_defaults(handler=cmd_sources_list)
    p.set_defaults(handler=lambda args, config, p=p: p.error(_("il manque la sous-commande (voir --help)")))


# -- commands --------------------------------------------------------------------------------


def cmd_sources_validate(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry

    path = args.file or config.sources_file
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        print_problems(path, exc)
        return PROBLEM
    count = len(registry.sources)
    print(ngettext("%(path)s : %(num)s source, valide", "%(path)s : %(num)s sources, toutes valides", count, path=path))
    return OK


def print_problems(path: Path, exc) -> None:
    """A registry's problems, one per line, then how many: nothing was loaded."""
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    count = len(exc.problems)
    print(
        ngettext(
            "%(path)s : %(num)s problème ; rien n'a été chargé",
            "%(path)s : %(num)s problèmes ; rien n'a été chargé",
            count,
            path=path,
        ),
        file=sys.stderr,
    )


def _confirm(question: str, args) -> bool:
    """Ask on a terminal (``--yes`` skips); a script or a pipe answers yes (its caller decided)."""
    if args.yes or not sys.stdin.isatty():
        return True
    try:
        answer = input(question + _(" [o/N] "))
    except EOFError:
        return False
    return answer.strip().lower() in (_("o"), _("oui"), "o", "oui", "y", "yes")


def cmd_sources_add(args, config: Config) -> int:
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
            write=False,
            chamber=args.chamber,
        )
    except AddError as exc:
        print(_("sources add : %(problem)s", problem=exc), file=sys.stderr)
        return PROBLEM
    if args.json:  # for the dashboard: no question asked, the entry written unless --dry-run
        if not args.dry_run:
            try:
                added.write()
            except AddError as exc:
                print(_("sources add : %(problem)s", problem=exc), file=sys.stderr)
                return PROBLEM
        summary = {"id": added.id, "kind": added.detection.kind, "detected": added.detection.summary()}
        print(json.dumps({**summary, "entry": added.entry_text, "written": not args.dry_run}, ensure_ascii=False))
        return OK
    print(_("détecté : %(summary)s", summary=added.detection.summary()))
    print(added.entry_text, end="")
    if args.dry_run:
        return OK
    if not _confirmed_and_written(_("Ajouter « %(id)s » à %(path)s ?", id=added.id, path=path), added, args, "add"):
        return PROBLEM
    print(_("%(path)s : « %(id)s » ajoutée", path=path, id=added.id))
    return OK


def cmd_sources_import(args, config: Config) -> int:
    from crawler.sources_add import AddError
    from crawler.sources_import import ImportFileError, import_sources, outcome_label

    path = args.file or config.sources_file
    try:
        result = import_sources(
            args.list_file,
            path,
            allow_private=args.allow_private,
            user_agent=config.user_agent,
            progress=_progress_bar() if sys.stderr.isatty() else None,
        )
    except (ImportFileError, AddError) as exc:
        print(_("sources import : %(problem)s", problem=exc), file=sys.stderr)
        return USAGE if isinstance(exc, ImportFileError) else PROBLEM
    for row in result.rows:
        detail = f" — {row.detail}" if row.detail else ""
        print(
            _(
                "ligne %(line)s : %(name)s : %(outcome)s%(detail)s",
                line=row.line,
                name=row.name,
                outcome=outcome_label(row.outcome),
                detail=detail,
            )
        )
    print(result.summary())
    if result.text is None or args.dry_run:
        if result.text is None:
            print(_("%(path)s n'a pas changé", path=path))
        return PROBLEM if result.problems else OK
    count = len(result.added)
    question = ngettext(
        "Ajouter %(num)s boutique à %(path)s ?", "Ajouter %(num)s boutiques à %(path)s ?", count, path=path
    )
    if not _confirmed_and_written(question, result, args, "import"):
        return PROBLEM
    print(ngettext("%(path)s : %(num)s boutique ajoutée", "%(path)s : %(num)s boutiques ajoutées", count, path=path))
    return PROBLEM if result.problems else OK


def _confirmed_and_written(question: str, change, args, command: str) -> bool:
    """Ask (:func:`_confirm`), then ``change.write()``; False, said on stderr, when nothing
    was written."""
    from crawler.sources_add import AddError

    if not _confirm(question, args):
        print(_("rien n'a été écrit"), file=sys.stderr)
        return False
    try:
        change.write()
    except AddError as exc:
        print(_("sources %(command)s : %(problem)s", command=command, problem=exc), file=sys.stderr)
        return False
    return True


def _progress_bar():
    """A one-line bar on stderr, rewritten in place (terminals only)."""

    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {label[:40]}"
        print(f"\r{line:<80}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    return show


def cmd_sources_list(args, config: Config) -> int:
    from crawler.registry import RegistryError, load_registry

    try:
        registry = load_registry(config.sources_file)
    except RegistryError as exc:
        print_problems(config.sources_file, exc)
        return PROBLEM
    for source in registry.sources:
        if args.json:
            print(json.dumps(source.model_dump(mode="json", exclude={"platform"}), ensure_ascii=False))
        else:
            print(f"{source.id}\t{source.kind or '?'}\t{source.town}\t{source.chamber or '—'}\t{source.url}")
    return OK
