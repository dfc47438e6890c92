"""Why a value was refused, said in French, for every layer that reports it to people.

The registry (``crawler.registry``, with its own hints for its fields), the chamber's
import and the indexer's report on run-file lines all turn one pydantic error (an item of
``ValidationError.errors()``) into a reason through :func:`validation_reason`; a text that
is not JSON (a run-file line, a contours file) gets its reason from :func:`json_reason`.
"""

from __future__ import annotations

from typing import Any

from config.i18n import N_, _


def validation_reason(error: Any) -> str:
    """The reason of one pydantic error, in the catalogue's language."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return _("champ obligatoire manquant")
    if kind == "extra_forbidden":
        return _("champ inconnu")
    if kind == "string_too_short":
        return _("ne peut pas être vide")
    if kind == "string_too_long":
        return _("trop long : %(limit)s caractères au plus", limit=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        return _("ne correspond pas à la forme attendue (%(pattern)s)", pattern=ctx.get("pattern"))
    if kind == "literal_error":
        return _(
            "valeur inconnue %(value)r ; valeurs possibles : %(expected)s",
            value=error.get("input"),
            expected=str(ctx.get("expected", "")).replace(" or ", _(" ou ")),
        )
    if kind == "union_tag_invalid":
        return _(
            "type inconnu %(value)r ; valeurs possibles : %(expected)s",
            value=ctx.get("tag"),
            expected=str(ctx.get("expected_tags", "")).replace(" or ", _(" ou ")),
        )
    if kind == "union_tag_not_found":
        return _("le champ « %(field)s » manque", field=ctx.get("discriminator", "type").strip("'"))
    if kind in ("string_type", "str_type", "string_unicode"):
        return _("doit être du texte")
    if kind == "list_type":
        return _("doit être une liste, [a, b]")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("doit être un ensemble de champs (nom: valeur)")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("doit être un nombre entier")
    if kind in ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"):
        return _("doit être un nombre")
    if kind in ("decimal_max_digits", "decimal_max_places", "decimal_whole_digits"):
        return _("a trop de chiffres")
    if kind in ("bool_parsing", "bool_type"):
        return _("doit valoir true ou false")
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing", "date_parsing", "date_type"):
        return _("doit être une date ISO 8601 (2026-12-06T09:30:00Z)")
    if kind in ("greater_than_equal", "greater_than"):
        return _("doit valoir au moins %(limit)s", limit=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("doit valoir au plus %(limit)s", limit=ctx.get("le", ctx.get("lt")))
    if kind in ("value_error", "assertion_error"):  # a validator's own message: ours are in French
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _("valeur refusée (%(why)s)", why=error["msg"])


# What orjson and the standard json module say, by the start of their message.
_JSON_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("unexpected end of data", "Unterminated string"), N_("fin inattendue")),
    (("unexpected content after document", "Extra data"), N_("du texte après la fin")),
    (("unexpected character, expected a string key", "Expecting property name"), N_("nom de champ attendu")),
    (("unexpected character, expected ':'", "Expecting ':' delimiter"), N_("« : » attendu après un nom de champ")),
    (("Expecting ',' delimiter",), N_("« , » attendue entre deux valeurs")),
    (("unexpected character, expected a JSON value", "Expecting value"), N_("valeur attendue")),
    (("unexpected control character", "Invalid control character"), N_("caractère de contrôle dans un texte")),
    (("trailing comma",), N_("virgule en trop")),
    (("str is not valid UTF-8",), N_("pas de l'UTF-8 valide")),
    (("no low surrogate", "lone leading surrogate", "lone trailing surrogate"), N_("caractère Unicode incomplet")),
)


def json_reason(exc: ValueError) -> str:
    """``JSON invalide à la colonne 2 : nom de champ attendu``, from a decoding error."""
    message = str(getattr(exc, "msg", exc))
    why = next((_(reason) for starts, reason in _JSON_REASONS if message.startswith(starts)), _("forme incorrecte"))
    column = getattr(exc, "colno", None)
    if column is None:
        return _("JSON invalide : %(why)s", why=why)
    return _("JSON invalide à la colonne %(column)d : %(why)s", column=column, why=why)
