"""One shop's website as a table of documents: every URL rendered once, served as is.

A ``Site`` maps a path (plus ``?page=N`` for paginated listings) to a ``Page``. Other
query strings (tracking parameters, sort orders, cart tokens) are ignored, as most shop
platforms ignore them; a path missing its trailing slash is redirected when the slashed
form exists, as WordPress does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    location: str | None = None  # for redirects


class Site:
    def __init__(self, not_found: Page):
        self.pages: dict[str, Page] = {}
        self.not_found = not_found

    def add(self, path: str, page: Page) -> None:
        if path in self.pages:
            raise ValueError(f"two documents at {path}")
        self.pages[path] = page

    def lookup(self, path: str, args: Mapping[str, str]) -> Page:
        number = args.get("page")
        if number and number != "1":
            return self.pages.get(f"{path}?page={number}", self.not_found)
        if path in self.pages:
            return self.pages[path]
        if not path.endswith("/") and path + "/" in self.pages:
            return Page(b"", status=301, location=path + "/")
        return self.not_found

    def paths(self) -> list[str]:
        return list(self.pages)
