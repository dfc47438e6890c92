"""argparse's own words (``usage:``, ``error:``, ``invalid choice``...) in French, through our catalogue.

argparse looks its messages up with the module-level ``_``/``ngettext`` it imported from
``gettext``, in the default domain where nothing translates them. :func:`install` replaces
both with lookups in :data:`MESSAGES`, whose French texts are ours (extracted into
``emplettes.pot`` by the ``N_`` marker) and go through :mod:`config.i18n` like any other.
"""

from __future__ import annotations

import argparse

from config.i18n import N_, gettext, ngettext

# argparse's message (Python 3.11-3.13) -> ours.
MESSAGES = {
    "usage: ": N_("usage : "),
    "positional arguments": N_("arguments"),
    "options": N_("options"),
    "show this help message and exit": N_("affiche cette aide et s'arrête"),
    "show program's version number and exit": N_("affiche la version et s'arrête"),
    "%(prog)s: error: %(message)s\n": N_("%(prog)s : erreur : %(message)s\n"),
    "the following arguments are required: %s": N_("il manque : %s (voir --help)"),
    "unrecognized arguments: %s": N_("arguments inconnus : %s (voir --help)"),
    "expected one argument": N_("attend une valeur"),
    "expected at most one argument": N_("attend au plus une valeur"),
    "expected at least one argument": N_("attend au moins une valeur"),
    "invalid choice: %(value)r (choose from %(choices)s)": N_(
        "choix inconnu : %(value)r (choix possibles : %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": N_("valeur invalide : %(value)r (attendu : %(type)s)"),
    "argument %(argument_name)s: %(message)s": N_("argument %(argument_name)s : %(message)s"),
    "ambiguous option: %(option)s could match %(matches)s": N_("option ambiguë : %(option)s peut être %(matches)s"),
    "not allowed with argument %s": N_("impossible avec l'argument %s"),
    "ignored explicit argument %r": N_("argument %r ignoré"),
    "one of the arguments %s is required": N_("l'un des arguments %s est nécessaire"),
    "unexpected option string: %s": N_("option inattendue : %s"),
    "can't open '%(filename)s': %(error)s": N_("impossible d'ouvrir « %(filename)s » : %(error)s"),
}
PLURALS = {
    "expected %s argument": (N_("attend %s valeur"), N_("attend %s valeurs")),
}
# The names argparse prints for the types of our arguments.
TYPES = {
    "int": N_("un nombre entier"),
    "float": N_("un nombre"),
    "Path": N_("un chemin de fichier"),
    "port_number": N_("un numéro de port, de 0 à 65535"),
}


def _argparse_gettext(message: str) -> str:
    french = MESSAGES.get(message)
    return gettext(french) if french is not None else message


def _argparse_ngettext(singular: str, plural: str, n: int) -> str:
    french = PLURALS.get(singular)
    if french is None:
        return singular if n == 1 else plural
    # ``%s`` is left for argparse to fill: no variables, so no formatting here.
    return ngettext(french[0].replace("%s", "%%s"), french[1].replace("%s", "%%s"), n, num=n)


class FrenchArgumentParser(argparse.ArgumentParser):
    """Type names in French in "valeur invalide" errors (``int`` → « un nombre entier »)."""

    def _get_value(self, action, arg_string):
        type_func = self._registry_get("type", action.type, action.type)
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError as exc:
            name = getattr(type_func, "__name__", "")
            if name in TYPES and exc.message:
                raise argparse.ArgumentError(
                    action,
                    gettext(MESSAGES["invalid %(type)s value: %(value)r"], type=gettext(TYPES[name]), value=arg_string),
                ) from None
            raise


def install() -> None:
    argparse._ = _argparse_gettext  # type: ignore[attr-defined]
    argparse.ngettext = _argparse_ngettext  # type: ignore[attr-defined]
