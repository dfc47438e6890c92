"""Refuse private, loopback and link-local addresses unless a source explicitly allows them.

A registry entry (or a redirect it serves) must not turn the crawler into a probe of the
machine it runs on or of the chamber's internal network. The check resolves host names,
so ``localhost`` or a DNS name pointing at 10.0.0.1 is refused like the literal address.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from config.i18n import N_, _

# The words every refusal carries, also how crawler.errors recognises a refusal that Scrapy
# re-raised as another error (it keeps the message, not the class).
PRIVATE_ADDRESS = N_("adresse privée, locale ou de lien local")


def names_a_private_address(text: str) -> bool:
    """Does an error message say the crawler refused a private address?"""
    return _(PRIVATE_ADDRESS) in text


class RefusedAddress(ValueError):
    """The URL points at an address the crawler must not fetch."""


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        return tuple(sorted({info[4][0] for info in socket.getaddrinfo(host, None)}))
    except socket.gaierror:
        return ()


def is_public_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Raise :class:`RefusedAddress` when ``url`` must not be fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise RefusedAddress(_("%(url)s : seules les adresses http et https sont collectées", url=repr(url)))
    host = parts.hostname
    if not host:
        raise RefusedAddress(_("%(url)s : pas de nom d'hôte", url=repr(url)))
    if allow_private:
        return
    try:
        addresses: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
    except ValueError:
        addresses = _resolve(host)
        if not addresses:
            return  # unresolvable: the download itself will fail with a DNS error
    for address in addresses:
        if not is_public_ip(address):
            raise RefusedAddress(
                _(
                    "%(url)s : %(host)s est une %(private)s (%(address)s) ; mettez allow_private: true "
                    "sur la source (ou --allow-private) seulement pour une boutique de test ou de démonstration",
                    url=url,
                    host=host,
                    private=_(PRIVATE_ADDRESS),
                    address=address,
                )
            )


def _guarded_resolver_class():
    """Built lazily: importing Scrapy/Twisted is not needed for :func:`check_url`."""
    from scrapy.resolver import CachingThreadedResolver
    from twisted.internet.error import DNSLookupError

    class PrivateAddressLookup(DNSLookupError):
        """A host name resolved to a private address: refused where the socket is opened."""

    class GuardedResolver(CachingThreadedResolver):
        """Scrapy's resolver, refusing private answers for hosts not explicitly allowed.

        :class:`crawler.middlewares.PrivateAddressGuard` checks each URL before it is
        fetched, but resolves the name itself: a DNS answer that changes between that check
        and the connection (DNS rebinding) would slip through. This resolver checks the
        address the connection actually uses. Hosts of sources with ``allow_private: true``
        are listed in the ``EMPLETTES_PRIVATE_HOSTS`` setting.
        """

        allowed: frozenset[str] = frozenset()

        @classmethod
        def from_crawler(cls, crawler, reactor):
            resolver = super().from_crawler(crawler, reactor)
            resolver.allowed = frozenset(h.lower() for h in crawler.settings.getlist("EMPLETTES_PRIVATE_HOSTS"))
            return resolver

        def getHostByName(self, name, timeout=()):
            deferred = super().getHostByName(name, timeout)
            if name.lower() in self.allowed:
                return deferred

            def check(address: str) -> str:
                try:
                    public = is_public_ip(address)
                except ValueError:
                    public = False
                if not public:
                    raise PrivateAddressLookup(
                        _(
                            "%(name)s : son adresse est une %(private)s (%(address)s)",
                            name=name,
                            private=_(PRIVATE_ADDRESS),
                            address=address,
                        )
                    )
                return address

            return deferred.addCallback(check)

    return GuardedResolver, PrivateAddressLookup


def __getattr__(name: str):  # module attribute built on first use
    if name in ("GuardedResolver", "PrivateAddressLookup"):
        resolver, error = _guarded_resolver_class()
        globals().update(GuardedResolver=resolver, PrivateAddressLookup=error)
        return globals()[name]
    raise AttributeError(name)
