"""``emplettes sources add URL``: detect a shop and append a valid, commented entry.

The registry is edited with ruamel.yaml's round-trip mode: the chamber's comments, order,
quoting and layout are kept byte for byte; the new entry goes at the end of ``sources:``
with a comment saying what was detected and when. The edited file is validated as a whole
before it replaces the old one, so ``sources add`` can never leave a registry that does
not load.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from crawler.detect import Detection, Fetch, detect, http_fetcher
from crawler.extract import extract_page
from crawler.registry import RegistryError, parse_registry


class AddError(ValueError):
    """Why the shop could not be added; the registry file is left untouched."""


@dataclass
class Added:
    id: str
    detection: Detection
    entry_text: str
    text: str  # the whole new registry


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "boutique"


def _same_shop(a: str, b: str) -> bool:
    def key(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return (parts.hostname or "").removeprefix("www."), (parts.port or ""), parts.path.rstrip("/")

    return key(a) == key(b)


def add_source(
    path: str | Path,
    url: str,
    *,
    id: str | None = None,
    name: str | None = None,
    town: str | None = None,
    postcode: str | None = None,
    kind: str | None = None,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    fetch: Fetch | None = None,
    write: bool = True,
    chamber: str | None = None,
) -> Added:
    path = Path(path)
    if not re.match(r"^https?://[^\s/?#]+", url):
        raise AddError(f"{url}: not an http:// or https:// address")
    original = path.read_text(encoding="utf-8") if path.exists() else "sources:\n"
    try:
        registry = parse_registry(original, path)
    except RegistryError as exc:
        raise AddError(f"{path} does not load; fix it first:\n{exc}") from exc
    for source in registry.sources:
        if _same_shop(source.url, url):
            raise AddError(f"{url} is already registered as {source.id!r}")

    fetch = fetch or http_fetcher(allow_private=allow_private, user_agent=user_agent)
    detection = detect(url, fetch) if kind is None else Detection(kind, via="--kind")
    status, _, home = fetch(url)
    declared = next((s for s in extract_page(home, url).shops if s.get("name")), {}) if status == 200 else {}
    name = name or declared.get("name") or _title(home) or urlsplit(url).hostname
    town = town or declared.get("town")
    postcode = postcode or declared.get("postcode")
    missing = [flag for flag, value in (("--town", town), ("--postcode", postcode)) if not value]
    if missing:
        raise AddError(f"{url} does not declare its address: give {' and '.join(missing)}")

    known = {s.id for s in registry.sources}
    source_id = id or slugify(name)
    if id is None:
        base, n = source_id, 2
        while source_id in known:
            source_id, n = f"{base}-{n}", n + 1
    elif source_id in known:
        raise AddError(f"id {source_id!r} is already used")

    entry = CommentedMap()
    entry["id"] = source_id
    entry["name"] = name
    entry["url"] = url
    entry["kind"] = detection.kind
    if detection.feed_url:
        entry["feed"] = detection.feed_url
    entry["town"] = town
    entry["postcode"] = DoubleQuotedScalarString(postcode)
    for key in ("address", "telephone"):
        if declared.get(key):
            entry[key] = declared[key]
    if chamber and chamber != registry.defaults.chamber:
        entry["chamber"] = chamber
    if allow_private:
        entry["allow_private"] = True

    yaml = _yaml()
    doc = yaml.load(original) or CommentedMap()
    if doc.get("sources") is None:
        doc["sources"] = CommentedSeq()
    sources = doc["sources"]
    sources.append(entry)
    note = f"ajouté par « emplettes sources add » le {date.today().isoformat()} : détecté {detection.summary()}"
    sources.yaml_set_comment_before_after_key(len(sources) - 1, before=note, indent=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue().replace(f"  # {note}\n", f"\n  # {note}\n", 1)
    try:
        parse_registry(text, path)
    except RegistryError as exc:
        raise AddError(f"the new entry would not be valid:\n{exc}") from exc
    entry_text = text[text.index(f"  # {note}") :]
    if write:
        _write_atomically(path, text)
    return Added(source_id, detection, entry_text, text)


def _title(html: bytes) -> str | None:
    match = re.search(rb"<title[^>]*>(.*?)</title>", html or b"", re.S | re.I)
    if not match:
        return None
    title = re.split(r"\s+[–|—-]\s+", match.group(1).decode("utf-8", "replace").strip())[0]
    return title or None


def _write_atomically(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
