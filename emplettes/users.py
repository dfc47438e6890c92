"""``emplettes users``: the dashboard's accounts, managed from the command line.

A password is never an argument (it would sit in the shell history and in ``ps``): it is
asked twice on a terminal, or read from standard input when that is not one (first line
the password, an optional second line its confirmation), for scripts and provisioning.
The accounts live in ``DATA_DIR/users.sqlite3`` (:mod:`portal.chambre.accounts`); every
change is written to the journal the dashboard shows.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from config import Config
from config.i18n import _

ACTOR = "ligne de commande"


def add_parser(sub, command) -> None:
    """The ``users`` command and its subcommands, on the main parser's ``sub``."""
    p = command("users", _("gérer les comptes du tableau de bord des chambres (/chambre/)"))
    users = p.add_subparsers(title=_("sous-commandes"), metavar="SOUS-COMMANDE")
    a = users.add_parser("add", help=_("créer un compte (mot de passe demandé, jamais en argument)"))
    a.add_argument("email", metavar="EMAIL")
    a.add_argument(
        "--chamber", required=True, metavar="ID", help=_("la chambre du compte (champ chamber: du registre)")
    )
    a.add_argument("--role", choices=["admin", "editor"], default="editor", help=_("défaut : editor"))
    a.set_defaults(handler=cmd_add)
    ls = users.add_parser("list", help=_("lister les comptes"))
    ls.add_argument("--json", action="store_true", help=_("un objet JSON par compte"))
    ls.set_defaults(handler=cmd_list)
    r = users.add_parser("remove", help=_("supprimer un compte (ses sessions prennent fin)"))
    r.add_argument("email", metavar="EMAIL")
    r.set_defaults(handler=cmd_remove)
    rp = users.add_parser("reset-password", help=_("changer le mot de passe d'un compte (ses sessions prennent fin)"))
    rp.add_argument("email", metavar="EMAIL")
    rp.set_defaults(handler=cmd_reset_password)
    p.set_defaults(handler=lambda args, config: p.error(_("il manque la sous-commande (voir --help)")))


def read_password(stdin=None) -> str:
    """From a terminal: asked twice. Otherwise: the first line, checked against a second if any."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass(_("Mot de passe : "))
        second = getpass.getpass(_("Confirmez le mot de passe : "))
    else:
        lines = stdin.read().splitlines()
        first = lines[0] if lines else ""
        second = lines[1] if len(lines) > 1 else first
    if first != second:
        raise ValueError(_("les deux mots de passe diffèrent"))
    return first


def _accounts(config: Config):
    from portal.chambre.accounts import open_accounts

    return open_accounts(config.data_dir)


def cmd_add(args: argparse.Namespace, config: Config) -> int:
    from portal.chambre.accounts import AccountError, check_password

    try:
        password = read_password()
        check_password(password)
        with _accounts(config) as accounts:
            user = accounts.add(args.email, args.chamber, args.role, password, actor=ACTOR)
    except (AccountError, ValueError) as exc:
        print(_("users add : %(error)s", error=exc), file=sys.stderr)
        return 2
    print(_("compte créé : %(email)s (chambre %(chamber)s, rôle %(role)s)", **vars(user)))
    return 0


def cmd_list(args: argparse.Namespace, config: Config) -> int:
    import json

    with _accounts(config) as accounts:
        users = accounts.list()
    for user in users:
        if args.json:
            print(json.dumps(vars(user), ensure_ascii=False))
        else:
            print(f"{user.email}\t{user.chamber}\t{user.role}\t{user.created_at}")
    if not users and not args.json:
        print(_("aucun compte : créez-en un avec « emplettes users add EMAIL --chamber ID »"), file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace, config: Config) -> int:
    from portal.chambre.accounts import AccountError

    try:
        with _accounts(config) as accounts:
            accounts.remove(args.email, actor=ACTOR)
    except AccountError as exc:
        print(_("users remove : %(error)s", error=exc), file=sys.stderr)
        return 2
    print(_("compte supprimé : %(email)s", email=args.email))
    return 0


def cmd_reset_password(args: argparse.Namespace, config: Config) -> int:
    from portal.chambre.accounts import AccountError, check_password

    try:
        password = read_password()
        check_password(password)
        with _accounts(config) as accounts:
            accounts.reset_password(args.email, password, actor=ACTOR)
    except (AccountError, ValueError) as exc:
        print(_("users reset-password : %(error)s", error=exc), file=sys.stderr)
        return 2
    print(_("mot de passe changé : %(email)s (ses sessions ont pris fin)", email=args.email))
    return 0
