"""The YAML parser's complaints, said in French with what a chamber most likely did wrong.

ruamel.yaml reports ``expected <block end>, but found '<block mapping start>'``: true, and
useless to someone who only moved a line two spaces. Each known problem gets a sentence
and a guess; an unknown one keeps the parser's words after a generic hint.
"""

from __future__ import annotations

import re

from config.i18n import N_, _

# (pattern of ruamel's problem, our explanation). First match wins.
_HINTS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"expected <block end>, but found|did not find expected key|expected <block mapping start>"),
        N_(
            "l'indentation ne correspond pas à l'entrée précédente ? Alignez ce champ sur ceux de son entrée "
            "(des espaces, jamais de tabulation)"
        ),
    ),
    (
        re.compile(r"found character '\\t'|found a tab character"),
        N_("une tabulation : YAML n'indente qu'avec des espaces"),
    ),
    (
        re.compile(r"mapping values are not allowed here"),
        N_(
            "l'indentation ne correspond pas à l'entrée précédente ? Ou bien une valeur contient « : » "
            'et s\'écrit entre guillemets : name: "Thé : la Boutique"'
        ),
    ),
    (
        re.compile(r"could not find expected ':'"),
        N_("il manque « : » entre le nom du champ et sa valeur ?"),
    ),
    (
        re.compile(r"found unexpected end of stream|found unknown escape character|while scanning a quoted scalar"),
        N_("un guillemet n'est pas refermé ?"),
    ),
    (
        re.compile(r"found duplicate key|duplicate key"),
        N_("ce champ apparaît deux fois dans la même entrée"),
    ),
    (
        re.compile(r"found character '@'|found character '`'|cannot start any token"),
        N_("ce caractère ne peut pas commencer une valeur : mettez la valeur entre guillemets"),
    ),
    (
        re.compile(r"expected ',' or '\]'|expected ',' or '}'"),
        N_("une liste [a, b] ou un bloc {a: 1} n'est pas refermé ?"),
    ),
]


def yaml_hint(problem: str) -> str:
    """French for one of ruamel.yaml's problems (``exc.problem``), with a hint."""
    for pattern, hint in _HINTS:
        if pattern.search(problem):
            return _(hint)
    return _("le fichier n'est pas du YAML valide (%(problem)s)", problem=problem)
