"""The portal's side of :mod:`config.i18n`: Python strings and templates share one catalogue.

In Python, ``_`` and ``ngettext``; in templates, ``_()`` and ``{% trans %}`` with Jinja's
i18n extension in "newstyle" mode.
"""

from __future__ import annotations

import gettext as _gettext

from config.i18n import _, current_translations, gettext, ngettext, use_translations

__all__ = ["_", "gettext", "init_app", "install_translations", "ngettext"]


def init_app(app) -> None:
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_translations(current_translations(), newstyle=True)  # type: ignore[attr-defined]


def install_translations(app, translations: _gettext.NullTranslations) -> None:
    """Switch Python and template strings to a compiled catalogue."""
    use_translations(translations)
    app.jinja_env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
