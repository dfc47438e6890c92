"""Who the client is, when the portal runs behind a reverse proxy.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only when
the connection comes from a proxy listed in ``TRUSTED_PROXIES`` (addresses or networks,
comma-separated). Then the client is the right-most address of the header that is not one
of those proxies: addresses further left were written by the client itself and may be
invented to dodge the API rate limit. ``X-Forwarded-Proto`` from a trusted proxy sets the
scheme (HSTS, canonical URLs). ``X-Forwarded-Host`` is never believed: many proxies pass a
client's own header through, and absolute URLs (sitemap, OpenSearch, canonical links) would
then name the client's host in cached responses; set ``PUBLIC_URL`` instead.

Without ``TRUSTED_PROXIES`` the headers are ignored and the client is the socket's peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """``"127.0.0.1, 10.0.0.0/8"`` -> networks; raises ValueError naming a bad entry."""
    networks = []
    for item in value.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an IP address or network") from None
    return tuple(networks)


def is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def client_address(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The client's address: ``peer`` unless it is a trusted proxy that forwarded the request."""
    if not networks or not forwarded_for or not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer  # every hop is ours: the left-most is the closest we know


def _last(value: str | None) -> str:
    """The value the nearest proxy appended (``a, b`` -> ``b``)."""
    return (value or "").split(",")[-1].strip()


class TrustedProxies:
    """WSGI middleware: rewrites ``REMOTE_ADDR`` and the scheme from a trusted proxy's headers."""

    def __init__(self, app: Callable, networks: tuple[Network, ...]):
        self.app = app
        self.networks = networks

    def __call__(self, environ: dict, start_response: Callable):
        peer = environ.get("REMOTE_ADDR", "")
        if self.networks and is_trusted(peer, self.networks):
            environ["emplettes.proxy_peer"] = peer
            environ["REMOTE_ADDR"] = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.networks)
            proto = _last(environ.get("HTTP_X_FORWARDED_PROTO")).lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
        return self.app(environ, start_response)


def init_app(app, trusted_proxies: str) -> None:
    networks = parse_networks(trusted_proxies)
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)
