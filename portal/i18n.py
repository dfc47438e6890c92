"""Translation hooks: every resident-facing string goes through ``_``.

The portal speaks French today. Wrapping strings now (``_`` in Python, ``_()`` and
``{% trans %}`` in templates, with Jinja's i18n extension in "newstyle" mode) means a
catalogue (Breton, English for tourists, ...) can be installed later without touching
templates: call :func:`install_translations` with a ``gettext.GNUTranslations``.
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


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_translations(_translations, newstyle=True)  # type: ignore[attr-defined]


def install_translations(app, translations: _gettext.NullTranslations) -> None:
    """Switch Python and template strings to a compiled catalogue."""
    global _translations
    _translations = translations
    app.jinja_env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
