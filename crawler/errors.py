"""Why a page could not be read, as one short kind: the key of a run's ``errors`` counts.

Kinds are stable strings a chamber can read in `emplettes status` and the dashboard:
``http_500``, ``timeout``, ``too_large``, ``redirect_loop``, ``connection``, ``dns``,
``refused_address``... Scrapy reports several of them as a bare ``IgnoreRequest`` whose
message is the only clue, hence the message matching below.
"""

from __future__ import annotations

import re

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError

# IgnoreRequest raised by components that count their own refusals (robots.txt).
NOT_AN_ERROR = None


def failure_kind(failure) -> str | None:
    """The error kind of a failed request, or None when it was deliberately skipped."""
    from twisted.internet import error as net
    from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

    if failure.check(HttpError):
        status = failure.value.response.status
        if 300 <= status < 400:
            # RedirectMiddleware did not follow it: no Location, or a non-HTTP one (file://, ftp://)
            return "redirect_refused"
        return f"http_{status}"
    if failure.check(IgnoreRequest):
        message = str(failure.value).lower()
        if "max redirections" in message:
            return "redirect_loop"
        if "during decompression" in message:
            return "decompression_too_large"  # a gzip bomb, or a genuinely huge page
        if "maxsize" in message or "max size" in message:
            return "too_large"
        from crawler.netguard import RefusedAddress

        if isinstance(failure.value.__cause__, RefusedAddress):  # crawler.middlewares: the address guard
            return "refused_address"
        return NOT_AN_ERROR  # robots.txt, offsite, duplicate: not the shop's fault
    from scrapy import exceptions as scrapy_errors

    if failure.check(scrapy_errors.DownloadCancelledError):
        return "too_large"  # cancelled by DOWNLOAD_MAXSIZE
    if failure.check(scrapy_errors.DownloadTimeoutError, net.TimeoutError, net.TCPTimedOutError):
        return "timeout"
    from crawler.netguard import PrivateAddressLookup, names_a_private_address

    if failure.check(PrivateAddressLookup) or names_a_private_address(str(failure.value)):
        # resolved to a private address when connecting (Scrapy re-raises the resolver's
        # error as CannotResolveHostError, keeping its message)
        return "refused_address"
    if failure.check(scrapy_errors.CannotResolveHostError, net.DNSLookupError):
        # Twisted turns the resolver's refusal into "no results": tell them apart here.
        return "refused_address" if _resolves_privately(failure) else "dns"
    if failure.check(scrapy_errors.DownloadConnectionRefusedError, net.ConnectionRefusedError):
        return "connection_refused"
    if failure.check(scrapy_errors.UnsupportedURLSchemeError):
        return "refused_address"
    if failure.check(
        scrapy_errors.DownloadFailedError,
        scrapy_errors.ResponseDataLossError,
        net.ConnectionLost,
        net.ConnectionDone,
        ResponseFailed,
        ResponseNeverReceived,
    ):
        return "connection"
    return type(failure.value).__name__


def _resolves_privately(failure) -> bool:
    import ipaddress
    from urllib.parse import urlsplit

    from crawler.netguard import _resolve, is_public_ip

    request = getattr(failure, "request", None)
    host = urlsplit(request.url).hostname if request is not None else None
    if not host:
        return False
    try:
        addresses: tuple[str, ...] = (str(ipaddress.ip_address(host)),)
    except ValueError:
        addresses = _resolve(host)
    return any(not is_public_ip(address) for address in addresses)


UNPARSEABLE_HTML = "unparseable_html"
# C0 control bytes that never occur in a text page (tab, newlines and form feed do)
_CONTROL_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})
_MARKUP = re.compile(rb"<(?:[a-zA-Z][a-zA-Z0-9:-]*[\s/>]|!|\?)")


def html_problem(body: bytes) -> str | None:
    """``unparseable_html`` when a page served as HTML has no usable markup, else None.

    Honest on purpose: a readable page that declares no product is *not* an error (a run
    finding nothing is recorded as ``empty``). Only these are: an empty body; a body that is
    not text at all (NUL or more than 1 % control bytes: an image, an archive, junk served as
    ``text/html``); text without a single tag (a bare error message or JSON served as HTML).
    Pages lxml cannot turn into a tree are counted by the spider with the same kind.
    """
    sample = body[:65536]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM: NULs are legitimate
        try:
            sample = sample.decode("utf-16", errors="replace").encode("utf-8")
        except UnicodeError:
            return UNPARSEABLE_HTML
    if not sample.strip():
        return UNPARSEABLE_HTML
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if b"\x00" in sample or controls * 100 > len(sample):
        return UNPARSEABLE_HTML
    if not _MARKUP.search(sample):
        return UNPARSEABLE_HTML
    return None
