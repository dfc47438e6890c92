"""Translation hooks for every layer: each string a user reads goes through ``_``.

The source strings are French (portal, command line, reports). Wrapping them now means a
catalogue (Breton, English for tourists, ...) can be installed later without touching the
code: :func:`use_translations` with a ``gettext.GNUTranslations``. The portal's templates
share the same catalogue (:mod:`portal.i18n`).
"""

from __future__ import annotations

import gettext as _gettext


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


def current_translations() -> _gettext.NullTranslations:
    return _translations


def use_translations(translations: _gettext.NullTranslations) -> None:
    """Switch every later ``_``/``ngettext`` call to a compiled catalogue."""
    global _translations
    _translations = translations
