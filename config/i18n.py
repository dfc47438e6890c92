"""Translation hooks for every layer: each string a user reads goes through ``_``.

The source strings are French (portal, command line, reports). Wrapping them now means a
catalogue (Breton, English for tourists, ...) can be installed later without touching the
code: :func:`use_translations` with a ``gettext.GNUTranslations``. The portal's templates
share the same catalogue (:mod:`portal.i18n`).
"""

from __future__ import annotations

import gettext as _gettext
from pathlib import Path


class FrenchSource(_gettext.NullTranslations):
    """No catalogue: the source strings are French, so plurals follow the French rule
    (0 and 1 take the singular: "0 produit"), not gettext's default English one."""

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return msgid1 if n in (0, 1) else msgid2


_translations: _gettext.NullTranslations = FrenchSource()


def gettext(message: str, **variables) -> str:
    text = _translations.gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = _translations.ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def N_(message: str) -> str:
    """Marks a string for the catalogue where it is defined (a table); ``_()`` translates it where used."""
    return message


def current_translations() -> _gettext.NullTranslations:
    return _translations


def use_translations(translations: _gettext.NullTranslations) -> None:
    """Switch every later ``_``/``ngettext`` call to a compiled catalogue."""
    global _translations
    _translations = translations


# The catalogues' domain: locales/<lang>/LC_MESSAGES/emplettes.mo (`make messages`).
DOMAIN = "emplettes"


class MissingCatalogue(LookupError):
    """The asked language has no compiled catalogue."""


def use_language(language: str, localedir: str | Path) -> None:
    """Install the compiled catalogue of ``language`` (``br``, ``en``...) from ``localedir``;
    ``""`` or ``fr`` keep the French source strings.

    Raises :class:`MissingCatalogue` naming the file looked for, so a misspelt
    ``EMPLETTES_LANG`` is reported rather than silently ignored."""
    language = language.strip()
    if not language or language.split("_")[0].lower() == "fr":
        use_translations(FrenchSource())
        return
    try:
        translations = _gettext.translation(DOMAIN, localedir=str(localedir), languages=[language])
    except OSError as exc:  # FileNotFoundError: no .mo for this language
        raise MissingCatalogue(
            gettext(
                "EMPLETTES_LANG=%(language)s : aucun catalogue %(path)s (langues disponibles : %(available)s)",
                language=language,
                path=Path(localedir) / language / "LC_MESSAGES" / f"{DOMAIN}.mo",
                available=", ".join(available_languages(localedir)) or "fr",
            )
        ) from exc
    translations.add_fallback(FrenchSource())  # untranslated strings stay French, with French plurals
    use_translations(translations)


def available_languages(localedir: str | Path) -> list[str]:
    """The languages with a compiled catalogue, besides French."""
    root = Path(localedir)
    return sorted(p.parent.parent.name for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
