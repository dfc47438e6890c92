"""Jinja filters and helpers: French number formats and links that keep every parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, urlencode

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
    if remove is not None:  # filter values are read with spaces collapsed (query.py): compare alike
        remove = (remove[0], " ".join(str(remove[1]).split()))
    pairs = [(k, v) for k, v in pairs if k not in dropped and (k, " ".join(v.split())) != remove]
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


_MARK = "\x00"  # no route or id holds it; quoted, it marks where the value goes
_PATH_SAFE = "!$&'()*+,/:;=@"  # what werkzeug's converters leave unquoted in a path part


def link_for(endpoint: str, **value: Any) -> str:
    """``url_for(endpoint, name=value)`` for a route with one string part, as fast as a
    string join: the route is built once per request and the quoted value set in place.
    20 product cards made 40 ``url_for`` calls, a tenth of a results page's rendering."""
    ((name, part),) = value.items()
    links = request.environ.setdefault("emplettes.links", {})  # this request's, whatever its app context
    pattern = links.get((endpoint, name))
    if pattern is None:
        built = url_for(endpoint, **{name: _MARK})
        mark = quote(_MARK)
        pattern = links[endpoint, name] = built.split(mark) if built.count(mark) == 1 else ()
    if not pattern:
        return url_for(endpoint, **value)
    return f"{pattern[0]}{quote(str(part), safe=_PATH_SAFE)}{pattern[1]}"


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


_KEYS_FIRST: dict[type, frozenset[str] | None] = {}  # per dict type: its attribute names, None: not safe


def keys_first(jinja_getattr: Callable[[Any, str], Any]) -> Callable[[Any, str], Any]:
    """Jinja's ``obj.name``, answering a dict's key without first failing on the attribute.

    Jinja tries ``getattr`` first and the key after: on the dicts the views are made of,
    every field raised and caught an AttributeError, a quarter of a results page's
    rendering time. Same answers: the key is used only when the dict's type and instance
    have no attribute of that name (``d.items`` is still the method).
    """

    def getattr_(obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict):
            kind = type(obj)
            names = _KEYS_FIRST.get(kind, ())
            if names == ():
                custom = kind.__getattribute__ is not dict.__getattribute__ or hasattr(kind, "__getattr__")
                names = _KEYS_FIRST[kind] = None if custom else frozenset(dir(kind))
            if (
                names is not None
                and attribute not in names
                and (kind is dict or attribute not in getattr(obj, "__dict__", ()))
            ):
                try:
                    return obj[attribute]
                except KeyError:
                    pass
        return jinja_getattr(obj, attribute)

    return getattr_


def init_app(app: Flask) -> None:
    env = app.jinja_env
    env.getattr = keys_first(env.getattr)  # type: ignore[method-assign]
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
        link_for=link_for,
        page_window=page_window,
        facet_label=formatting.facet_label,
        sort_label=formatting.sort_label,
    )
    env.trim_blocks = True
    env.lstrip_blocks = True
