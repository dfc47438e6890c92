"""One HTTP GET outside Scrapy (kind detection, ``emplettes check``, ``sources add``), bounded.

Scrapy bounds each download as a whole; a plain HTTP client bounds each socket read, so a
shop answering one byte per second is never "late" and holds its caller for hours. Here
every request has a TOTAL deadline (name lookup, connection, TLS, headers and the whole
body, redirects included) and a cap on the bytes it keeps:

* the name is resolved once, within the deadline, and the address guard
  (:mod:`crawler.netguard`) judges the address the socket then connects to: no second
  lookup a rebinding DNS could answer differently;
* each read waits at most for what is left of the deadline, and a watchdog shuts the
  socket down when the deadline passes, whatever the read is waiting for;
* the body (decompressed, when the shop compresses it anyway) stops at ``max_bytes``.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote, urljoin, urlsplit

from config.i18n import _
from crawler.netguard import RefusedAddress, check_url, is_public_ip

MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)
_CHUNK = 64 * 1024
_SAFE = "/%:@!$&'()*+,;=~[]"  # kept as they are in a request target


class FetchError(OSError):
    """The page could not be fetched: network error, deadline passed, too many redirects.

    ``reason`` says why in a few French words (« nom de domaine introuvable »), for the
    one-line reports of ``check``, ``sources add`` and ``sources import``."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class DeadlinePassed(FetchError):
    """No complete answer within the deadline (a slow or dripping shop)."""


class TooLarge(FetchError):
    """The body is larger than the cap (and the caller asked not to truncate)."""


def default_timeout() -> float:
    """``DOWNLOAD_TIMEOUT``: the crawler's limit for one page, here for one whole request."""
    from config import Config

    return float(Config().download_timeout)


@dataclass
class Deadline:
    """A moment after which nothing more is waited for; shared by the requests of one task."""

    seconds: float
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.at = time.monotonic() + self.seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.left() <= 0


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool = False  # the body reached ``max_bytes`` and the rest was not read


def fetch_url(
    url: str,
    *,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    timeout: float | None = None,
    deadline: Deadline | None = None,
    max_bytes: int = MAX_BYTES,
    truncate: bool = False,
    accept: str = "*/*",
    max_redirects: int = MAX_REDIRECTS,
) -> Fetched:
    """GET ``url``, following at most ``max_redirects`` redirects (each hop guarded), within
    ``timeout`` seconds in all (default ``DOWNLOAD_TIMEOUT``; or the shared ``deadline``).

    Raises :class:`RefusedAddress` for a refused address, :class:`FetchError` (an
    ``OSError``) otherwise; a body over ``max_bytes`` raises :class:`TooLarge`, or with
    ``truncate`` ends there."""
    deadline = deadline or Deadline(default_timeout() if timeout is None else timeout)
    headers = {"User-Agent": user_agent, "Accept": accept, "Accept-Encoding": "gzip, deflate"}
    for _hop in range(max_redirects + 1):
        check_url(url, allow_private=allow_private)
        got = _get(url, deadline, headers, allow_private=allow_private, max_bytes=max_bytes)
        location = got.headers.get("location")
        if got.status in REDIRECTS and location:
            url = urljoin(url, location)
            continue
        if got.truncated and not truncate:
            raise TooLarge(_("%(url)s dépasse %(mb)d Mo", url=url, mb=max_bytes // (1024 * 1024)))
        return got
    raise FetchError(
        _("%(url)s : plus de %(count)d redirections", url=url, count=max_redirects), _("trop de redirections")
    )


def _get(url: str, deadline: Deadline, headers: dict[str, str], *, allow_private: bool, max_bytes: int) -> Fetched:
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    watchdog: list[socket.socket] = []
    timer = threading.Timer(max(0.0, deadline.left()), _cut, args=(watchdog,))
    timer.daemon = True
    timer.start()
    connection = None
    try:
        host = (parts.hostname or "").encode("idna").decode("ascii")
        port = parts.port or (443 if secure else 80)
        connection = http.client.HTTPConnection(host, port)  # only its HTTP framing: the socket is ours
        address = _resolve(host, port, deadline, allow_private=allow_private, url=url)
        sock = socket.socket(address[0], socket.SOCK_STREAM)
        watchdog.append(sock)
        sock.settimeout(_left(deadline))
        sock.connect(address[1])
        if secure:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
            watchdog.append(sock)  # before the handshake, which a shop can drip too
            sock.do_handshake()
        connection.sock = sock
        # as browsers send them: characters outside ASCII %-encoded, existing escapes kept
        target = quote(parts.path or "/", safe=_SAFE) + (
            f"?{quote(parts.query, safe=_SAFE + '?')}" if parts.query else ""
        )
        connection.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        sock.settimeout(_left(deadline))
        response = connection.getresponse()
        answer = {name.lower(): value for name, value in response.getheaders()}
        body, truncated = _read_body(response, sock, deadline, max_bytes, answer.get("content-encoding", ""))
        return Fetched(url, response.status, answer, body, truncated)
    except (RefusedAddress, FetchError):
        raise
    except (OSError, http.client.HTTPException, ValueError, UnicodeError) as exc:  # ValueError: a bad port
        if deadline.passed():
            raise DeadlinePassed(
                _("%(url)s : pas de réponse complète en %(seconds)g s", url=url, seconds=deadline.seconds),
                _("pas de réponse complète dans le délai"),
            ) from None
        raise FetchError(_("impossible de lire %(url)s : %(error)s", url=url, error=exc), _network_reason(exc)) from exc
    finally:
        timer.cancel()
        if connection is not None:
            connection.close()
        for each in watchdog:
            each.close()


def _read_body(
    response: http.client.HTTPResponse, sock: socket.socket, deadline: Deadline, max_bytes: int, encoding: str
) -> tuple[bytes, bool]:
    """The body, decompressed when the shop compressed it, up to ``max_bytes``; each read
    returns what one receive brings, so the deadline is checked between them."""
    encoding = encoding.strip().lower()
    inflate = (
        zlib.decompressobj(16 + zlib.MAX_WBITS)
        if encoding in ("gzip", "x-gzip")
        else zlib.decompressobj()
        if encoding == "deflate"
        else None
    )
    body = bytearray()
    while len(body) <= max_bytes:
        sock.settimeout(_left(deadline))
        chunk = response.read1(_CHUNK)
        if not chunk:
            break
        if inflate is not None:
            chunk = inflate.decompress(chunk, max_bytes + 1 - len(body))  # a bomb stops at the cap
        body += chunk
    if deadline.passed():  # the watchdog's shutdown reads as the end of the body: it is not
        raise TimeoutError
    if len(body) > max_bytes:
        return bytes(body[:max_bytes]), True
    return bytes(body), False


def _network_reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return _("la connexion a été refusée")
    if isinstance(exc, ssl.SSLError):
        return _("certificat TLS refusé")
    if isinstance(exc, ConnectionError):
        return _("la connexion a été coupée")
    if isinstance(exc, http.client.HTTPException):
        return _("réponse HTTP illisible")
    if isinstance(exc, (ValueError, UnicodeError)):
        return _("adresse invalide")
    return _("connexion impossible")


def _resolve(host: str, port: int, deadline: Deadline, *, allow_private: bool, url: str) -> tuple[int, tuple]:
    """(family, socket address) to connect to, looked up within the deadline and judged by
    the address guard here, on the very address used."""
    pool = ThreadPoolExecutor(max_workers=1)  # getaddrinfo has no timeout of its own
    try:
        answers = pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM).result(timeout=_left(deadline))
    except socket.gaierror as exc:
        raise FetchError(
            _("%(host)s introuvable (DNS) : %(error)s", host=host, error=exc), _("nom de domaine introuvable")
        ) from exc
    finally:
        pool.shutdown(wait=False)
    for family, _type, _proto, _name, address in answers:
        if allow_private or is_public_ip(address[0]):
            return family, address
    raise RefusedAddress(
        _(
            "refusé %(url)s : %(host)s est une adresse privée, locale ou de lien local (%(address)s)",
            url=url,
            host=host,
            address=answers[0][4][0] if answers else "?",
        )
    )


def _left(deadline: Deadline) -> float:
    left = deadline.left()
    if left <= 0:
        raise TimeoutError
    return left


def _cut(sockets: list[socket.socket]) -> None:
    """The deadline passed: wake up whatever read is waiting on these sockets."""
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
