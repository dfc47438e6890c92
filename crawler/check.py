"""``emplettes check``: what would the portal read on this page? A preview for chambers.

Fetches one page (guarded like the crawler: http(s) only, no private addresses unless
allowed, every redirect hop checked, bounded size and time) or reads a saved file, and
runs the same pure extraction the spiders use.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from crawler.extract import PageExtraction, extract_page
from crawler.netguard import RefusedAddress, check_url

MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5


class CheckError(RuntimeError):
    """The page could not be read; the message says why, for a chamber to act on."""


@dataclass
class CheckResult:
    url: str
    extraction: PageExtraction

    @property
    def records(self) -> list[dict]:
        return [*self.extraction.products, *self.extraction.shops]


def fetch(url: str, *, allow_private: bool = False, user_agent: str = "emplettes", timeout: float = 20.0) -> tuple[str, bytes]:
    """GET ``url`` following at most five redirects, each one checked by the address guard."""
    session = requests.Session()
    for _ in range(MAX_REDIRECTS + 1):
        try:
            check_url(url, allow_private=allow_private)
        except RefusedAddress as exc:
            raise CheckError(str(exc)) from exc
        try:
            response = session.get(
                url,
                headers={"User-Agent": user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
                timeout=timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.RequestException as exc:
            raise CheckError(f"cannot fetch {url}: {exc}") from exc
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code >= 400:
                raise CheckError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_BYTES:
                    raise CheckError(f"{url} is larger than {MAX_BYTES // (1024 * 1024)} MB: not a shop page")
            return response.url or url, bytes(body)
    raise CheckError(f"{url}: more than {MAX_REDIRECTS} redirects")


def read_file(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def check(target: str, *, base_url: str | None = None, allow_private: bool = False, user_agent: str = "emplettes") -> CheckResult:
    """Extract the records of a URL or of a saved HTML file (``base_url`` resolves its links)."""
    path = Path(target)
    if not target.startswith(("http://", "https://")):
        if not path.exists():
            raise CheckError(f"{target}: no such file (and not an http:// or https:// address)")
        url = base_url or path.resolve().as_uri()
        return CheckResult(url, extract_page(read_file(path), url))
    url, body = fetch(target, allow_private=allow_private, user_agent=user_agent)
    return CheckResult(url, extract_page(body, url))


def explain_empty(result: CheckResult) -> str:
    """Why nothing was found, and what the shop could add to its pages."""
    if result.extraction.login_required:
        return "this page asks visitors to log in: emplettes never logs in; the shop needs a public page."
    found = ", ".join(result.extraction.syntaxes) or "no structured data at all"
    return (
        f"no schema.org Product or OpenGraph product markup found on {result.url} ({found}).\n"
        "A product page becomes visible with a block like:\n"
        '  <script type="application/ld+json">{"@context": "https://schema.org", "@type": "Product",\n'
        '   "name": "Bougie parfumée figue", "image": "https://…/bougie.jpg",\n'
        '   "offers": {"@type": "Offer", "price": "18.50", "priceCurrency": "EUR",\n'
        '              "availability": "https://schema.org/InStock"}}</script>'
    )
