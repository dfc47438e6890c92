"""Jinja filters and helpers: French number formats and links that keep every parameter."""

from __future__ import annotations

from typing import Any, Iterable
from urllib.parse import urlencode

from flask import Flask, request, url_for

from portal import formatting
from portal.presenters import distance_display
from portal.query import PARAMS


def format_int(value: Any) -> str:
    """``1234`` -> ``1 234`` (French thousands separator)."""
    try:
        return f"{int(value):,}".replace(",", " ")
    except (TypeError, ValueError):
        return ""


def current_params() -> list[tuple[str, str]]:
    """The current request's known search parameters, in order, without empties."""
    return [(k, v) for k, v in request.args.items(multi=True) if k in PARAMS and v.strip()]


def search_url(
    endpoint: str = "search.results",
    *,
    params: Iterable[tuple[str, str]] | None = None,
    drop: Iterable[str] = (),
    remove: tuple[str, str] | None = None,
    keep_page: bool = False,
    **set_values: Any,
) -> str:
    """A URL to ``endpoint`` with the current search parameters, changed.

    ``drop`` removes parameters, ``remove=(name, value)`` unticks one filter value and
    keyword arguments replace a parameter. The page resets to 1 unless ``keep_page``
    or ``page=`` is given: changing a filter must not land on an empty page 7.
    """
    pairs = list(current_params() if params is None else params)
    dropped = set(drop) | set(set_values)
    if not keep_page:
        dropped.add("page")
    pairs = [(k, v) for k, v in pairs if k not in dropped and (k, v) != remove]
    for name, value in set_values.items():
        if value is None or value == "":
            continue
        if isinstance(value, (list, tuple)):
            pairs.extend((name, str(v)) for v in value)
        elif not (name == "page" and str(value) == "1"):
            pairs.append((name, str(value)))
    view_args = (request.view_args or {}) if endpoint == request.endpoint else {}
    path = url_for(endpoint, **view_args)
    return f"{path}?{urlencode(pairs)}" if pairs else path


def page_window(page: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to show around ``page``; ``None`` marks a gap (rendered as …)."""
    shown = {1, pages, *range(max(1, page - width), min(pages, page + width) + 1)}
    out: list[int | None] = []
    previous = 0
    for number in sorted(shown):
        if number - previous > 1:
            out.append(None)
        out.append(number)
        previous = number
    return out


def init_app(app: Flask) -> None:
    env = app.jinja_env
    env.filters.update(
        price=formatting.format_price,
        availability_label=formatting.availability_label,
        service_label=formatting.service_label,
        safe_url=formatting.safe_url,
        tel_href=formatting.tel_href,
        shorten=formatting.shorten,
        distance=distance_display,
        format_int=format_int,
    )
    env.globals.update(
        search_url=search_url,
        page_window=page_window,
        facet_label=formatting.facet_label,
        sort_label=formatting.sort_label,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
