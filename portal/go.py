"""``/go/<record id>``: the one way out of the portal to a product page on a shop's site.

The link carries only the record id; the destination is read from the index, so there is
no parameter an attacker could fill with another address. Even so, the index holds what
shops' pages said, and a page can lie: the redirect goes only to an http(s) URL on the
host of the product's source (the registry URL, ``source_url``) or a subdomain of it,
falling back to the host of ``shop_url`` for records crawled before ``source_url`` existed.
A leading ``www.`` of that host is ignored, so ``www.shop.fr`` and ``shop.fr`` are one
shop. Anything else gets a French page saying the link was not followed.

Each redirect counts one click for the shop (see :mod:`portal.clicks`), up to
``CLICK_COUNT_LIMIT`` per client and shop: a robot replaying links still gets redirected
but stops adding to the chamber's figures. That budget lives in the process's memory
only (a token bucket per address and shop, forgotten once refilled), never on disk.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import quote, urlsplit, urlunsplit

from flask import Blueprint, abort, current_app, make_response, redirect, render_template, request

from indexer.records import id_in_source
from portal.backend import get_backend, get_config
from portal.clicks import FILENAME, ClickCounter
from portal.ratelimit import TokenBuckets, client_key, parse_rate

bp = Blueprint("go", __name__)

EXTENSION = "emplettes_clicks"
BUDGET = "emplettes_click_budget"
MAX_URL_LENGTH = 4096
REFERRER_POLICY = "strict-origin"  # the shop sees the portal sent the visitor, not the search
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\]")  # controls and backslashes (browsers read \ as /)
# Characters left as they are in the path, query and fragment; everything else is %-encoded.
_SAFE_PATH = "/%!$&'()*+,;=:@-._~"
_SAFE_QUERY = _SAFE_PATH + "?"


def ascii_host(host: str | None) -> str | None:
    """A host name as browsers resolve it (IDNA, lower case, no trailing dot), or ``None``.

    Look-alike Unicode names become their ``xn--`` form, which never equals the shop's
    ASCII name. IP literals are kept (compared exactly); anything else odd is refused.
    """
    if not host:
        return None
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return None
    labels = host.split(".")
    if len(labels) < 2 or not all(_HOST_LABEL.match(label) for label in labels):
        return None
    return host


def source_host(record: dict) -> str | None:
    """The host a product's links must stay on: its source's, else its shop's."""
    for key in ("source_url", "shop_url"):
        value = record.get(key)
        if isinstance(value, str) and not _FORBIDDEN.search(value.strip()):
            try:
                parts = urlsplit(value.strip())
            except ValueError:
                continue
            if parts.scheme.lower() in ("http", "https") and "@" not in parts.netloc:
                host = ascii_host(parts.hostname)
                if host:
                    return host
    return None


def host_belongs(host: str, allowed: str) -> bool:
    """``host`` is ``allowed`` or one of its subdomains (``www.`` of ``allowed`` ignored)."""
    try:
        ipaddress.ip_address(allowed)
        return host == allowed
    except ValueError:
        pass
    base = allowed[4:] if allowed.startswith("www.") and allowed.count(".") >= 2 else allowed
    return host == base or host.endswith("." + base)


def outbound_url(url: object, allowed_host: str | None) -> str | None:
    """The URL to redirect to, rebuilt from its parts, or ``None`` when it must not be followed.

    Refused: other schemes (``javascript:``, ``data:``), scheme-relative ``//host``, user
    info (``https://shop.fr@evil.example``), backslashes and control characters, bad
    ports, and any host that is not ``allowed_host`` or its subdomain.
    """
    if not isinstance(url, str) or not allowed_host:
        return None
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH or _FORBIDDEN.search(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    host = ascii_host(parts.hostname)
    if host is None or not host_belongs(host, allowed_host):
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit(
        (
            scheme,
            netloc,
            quote(parts.path or "/", safe=_SAFE_PATH),
            quote(parts.query, safe=_SAFE_QUERY),
            quote(parts.fragment, safe=_SAFE_QUERY),
        )
    )


def product_target(record: dict) -> str | None:
    """Where the product link of ``record`` may lead, if anywhere."""
    return outbound_url(record.get("url"), source_host(record))


def click_counter() -> ClickCounter:
    counter = current_app.extensions.get(EXTENSION)
    if counter is None:
        counter = current_app.extensions[EXTENSION] = ClickCounter(get_config().data_dir / FILENAME)
    return counter


def init_app(app, click_count_limit: str) -> None:
    """Read ``CLICK_COUNT_LIMIT`` when the portal starts: a bad value stops it there, not
    on every resident's click."""
    rate = parse_rate(click_count_limit, name="CLICK_COUNT_LIMIT")
    app.extensions[BUDGET] = TokenBuckets(rate) if rate else None


def counts_as_click(shop_id: str) -> bool:
    """Per client and shop, whether this click still counts (no budget: every one does)."""
    budget = current_app.extensions.get(BUDGET)
    return budget is None or budget.take(f"{client_key(request.remote_addr)}\x00{shop_id}") == 0.0


def is_prefetch() -> bool:
    """Browsers announce speculative loads; those are not a resident's click."""
    purpose = (request.headers.get("Sec-Purpose") or request.headers.get("Purpose") or "").lower()
    return "prefetch" in purpose or "prerender" in purpose


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = REFERRER_POLICY
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/go/<path:record_id>")
def product(record_id: str):
    record = get_backend().get(record_id)
    if not isinstance(record, dict) or record.get("type") != "product":
        abort(404)
    source_id = record.get("source_id")
    if not isinstance(source_id, str) or not id_in_source(record_id, source_id):
        abort(404)  # a record written under another source's id (before loads refused them)
    target = product_target(record)
    if target is None:
        shop_id = record.get("shop_id") if isinstance(record.get("shop_id"), str) else None
        page = render_template(
            "go_refused.html",
            product_name=record.get("name") or "",
            shop_id=shop_id,
            shop_name=record.get("shop_name") or "",
        )
        return _no_store(make_response(page, 403))
    shop_id = record.get("shop_id")
    if (
        request.method == "GET"
        and isinstance(shop_id, str)
        and shop_id
        and not is_prefetch()
        and counts_as_click(shop_id)
    ):
        click_counter().count(shop_id)
    return _no_store(redirect(target, code=302))
