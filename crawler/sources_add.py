"""``emplettes sources add URL``: detect a shop and append a valid, commented entry.

The registry is edited with ruamel.yaml's round-trip mode: the chamber's comments, order,
quoting and layout are kept byte for byte; the new entry goes at the end of ``sources:``
with a comment saying what was detected and when. The edited file is validated as a whole
before it replaces the old one (in one move: an editor or the scheduler never reads half a
file), so ``sources add`` can never leave a registry that does not load.

:func:`survey` (what a shop's site says about it) and :func:`append_entries` (the round-trip
edit) are shared with ``sources import`` (:mod:`crawler.sources_import`).
"""

from __future__ import annotations

import html
import io
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import requests
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from config.i18n import _
from crawler.detect import Detection, Fetch, detect, http_fetcher
from crawler.extract import extract_page
from crawler.fetch import FetchError
from crawler.netguard import RefusedAddress
from crawler.registry import Registry, RegistryError, parse_registry, read_registry_text


class AddError(ValueError):
    """Why the shop could not be added; the registry file is left untouched."""


class Unreachable(AddError):
    """The shop's site did not answer (DNS, refused connection, timeout, HTTP error)."""


class NoProducts(AddError):
    """The site answered but nothing on it reads as a product."""


@dataclass
class Added:
    id: str
    detection: Detection
    entry_text: str
    text: str  # the whole new registry
    path: Path
    original: str  # the registry as read: writing refuses if it changed meanwhile

    def write(self) -> None:
        write_registry(self.path, self.text, expected=self.original)


@dataclass
class Survey:
    """What a shop's own site says: its kind, and the name and address its markup declares."""

    detection: Detection
    name: str | None
    declared: dict = field(default_factory=dict)
    products_seen: int | None = None  # products read on sampled pages (website kind)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


# Letters NFKD does not split into a base letter and an accent, and typographic apostrophes
# (which it would drop, gluing « l’œuf » into « loeuf »).
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss", "’": "'", "‘": "'", "ʼ": "'"})


def slugify(text: str) -> str:
    """A registry id from a French name: ``La Chandellerie d'Amboise`` → ``la-chandellerie-d-amboise``.

    Entities are decoded first (``d&#39;Amboise`` is an apostrophe, not the number 39)."""
    text = html.unescape(text).translate(_LIGATURES)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "boutique"


def clean_name(text: str) -> str:
    """A shop name as its page declares it, entities decoded and spaces collapsed."""
    return " ".join(html.unescape(text).split())


def same_shop(a: str, b: str) -> bool:
    def key(url: str) -> tuple[str, int | str, str]:
        parts = urlsplit(url)
        return (parts.hostname or "").removeprefix("www."), (parts.port or ""), parts.path.rstrip("/")

    return key(a) == key(b)


def check_address(url: str) -> None:
    if not re.match(r"^https?://[^\s/?#]+", url):
        raise AddError(_("%(url)s n'est pas une adresse http:// ou https://", url=url))


def read_registry(path: Path) -> tuple[str, Registry]:
    """The registry's text and its entries; an :class:`AddError` when it does not load."""
    try:
        original = read_registry_text(path) if path.exists() else "sources:\n"
    except RegistryError as exc:
        raise AddError(_("%(path)s ne peut pas être lu :\n%(problems)s", path=path, problems=exc)) from exc
    try:
        return original, parse_registry(original, path)
    except RegistryError as exc:
        empty = _with_empty_sources(original)
        if empty is not None:  # a new registry: "sources:" with no entry yet
            try:
                return original, parse_registry(empty, path)
            except RegistryError:
                pass
        raise AddError(
            _("%(path)s ne se charge pas ; corrigez-le d'abord :\n%(problems)s", path=path, problems=exc)
        ) from exc


def _with_empty_sources(text: str) -> str | None:
    """The registry with ``sources: []`` when its ``sources:`` holds nothing yet, else None."""
    try:
        doc = _yaml().load(text)
    except Exception:  # the parser's own errors were reported by parse_registry
        return None
    if not isinstance(doc, CommentedMap) or "sources" not in doc or doc["sources"] is not None:
        return None
    doc["sources"] = CommentedSeq()
    out = io.StringIO()
    _yaml().dump(doc, out)
    return out.getvalue()


def _os_reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return _(
            "ce n'est pas du texte UTF-8 (octet %(byte)s à la position %(pos)s)",
            byte=hex(exc.object[exc.start]),
            pos=exc.start,
        )
    if isinstance(exc, IsADirectoryError):
        return _("c'est un dossier, pas un fichier")
    if isinstance(exc, FileNotFoundError):
        return _("le fichier n'existe pas")
    if isinstance(exc, PermissionError):
        return _("permission refusée")
    return getattr(exc, "strerror", None) or str(exc)


def _network_reason(exc: Exception) -> str:
    return exc.reason if isinstance(exc, FetchError) else type(exc).__name__


def survey(
    url: str,
    fetch: Fetch,
    *,
    kind: str | None = None,
    sample_pages: int = 0,
    allow_private: bool = False,
    user_agent: str = "emplettes",
) -> Survey:
    """Detect the shop's kind and read the name and address its home page declares.

    With ``sample_pages`` (``sources import``), a shop whose platform lists no product, or a
    ``website`` shop none of whose pages (home and up to ``sample_pages`` product-like pages
    it links to, read as ``check`` does) shows one, raises :class:`NoProducts`."""
    try:
        detection = detect(url, fetch) if kind is None else Detection(kind, via="--kind")
        status, _headers, home = fetch(url)
    except RefusedAddress as exc:
        raise AddError(str(exc)) from exc
    except (requests.RequestException, OSError) as exc:
        raise Unreachable(_("%(url)s est injoignable : %(why)s", url=url, why=_network_reason(exc))) from exc
    if status >= 400:
        raise Unreachable(_("%(url)s répond HTTP %(status)s", url=url, status=status))
    declared = next((s for s in extract_page(home, url).shops if s.get("name")), {}) if status == 200 else {}
    name = declared.get("name") or _title(home)
    found = Survey(detection, clean_name(name) if name else None, declared)
    if not sample_pages:  # `sources add`: a shop may register before its first product
        return found
    if detection.products == 0:
        raise NoProducts(_("%(url)s : %(kind)s ne liste aucun produit", url=url, kind=detection.kind))
    if detection.kind == "website" and detection.products is None:
        from crawler.check import sample_site

        products = (
            extract_page(home, url).products
            or sample_site(url, home, allow_private=allow_private, user_agent=user_agent, pages=sample_pages).products
        )
        found.products_seen = len(products)
        if not products:
            raise NoProducts(
                _(
                    "aucun produit trouvé sur %(url)s ni sur les pages qu'il relie ; "
                    "« emplettes check %(url)s » dit ce qui manque",
                    url=url,
                )
            )
    return found


def new_entry(
    *,
    id: str,
    name: str,
    url: str,
    detection: Detection,
    town: str,
    postcode: str,
    extra: dict | None = None,
    allow_private: bool = False,
) -> CommentedMap:
    """A registry entry, fields in the order chambers read them."""
    entry = CommentedMap()
    entry["id"] = id
    entry["name"] = name
    entry["url"] = url
    entry["kind"] = detection.kind
    if detection.feed_url:
        entry["feed"] = detection.feed_url
    entry["town"] = town
    entry["postcode"] = DoubleQuotedScalarString(postcode)
    for key, value in (extra or {}).items():
        if value:
            entry[key] = value
    if allow_private:
        entry["allow_private"] = True
    return entry


def declared_geo(declared: dict) -> CommentedMap | None:
    """``{lat: …, lon: …}`` (one line, as chambers write it) when the shop's markup gives both."""
    lat, lon = declared.get("lat"), declared.get("lon")
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    geo = CommentedMap([("lat", lat), ("lon", lon)])
    geo.fa.set_flow_style()
    return geo


def unique_id(wanted: str, known: set[str]) -> str:
    source_id, n = wanted, 2
    while source_id in known:
        source_id, n = f"{wanted}-{n}", n + 1
    return source_id


def append_entries(original: str, path: Path, entries: list[tuple[CommentedMap, str]]) -> str:
    """The registry text with ``entries`` (each with its comment) appended to ``sources:``,
    the rest kept byte for byte; an :class:`AddError` when the result would not load."""
    yaml = _yaml()
    doc = yaml.load(original) or CommentedMap()
    if doc.get("sources") is None:
        doc["sources"] = CommentedSeq()
    sources = doc["sources"]
    for entry, note in entries:
        sources.append(entry)
        sources.yaml_set_comment_before_after_key(len(sources) - 1, before=note, indent=2)
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue()
    for _entry, note in entries:  # a blank line before each new entry, as chambers write them
        text = text.replace(f"  # {note}\n", f"\n  # {note}\n", 1)
    try:
        parse_registry(text, path)
    except RegistryError as exc:
        raise AddError(_("le registre ne serait plus valide :\n%(problems)s", problems=exc)) from exc
    return text


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
    """Detect the shop at ``url`` and prepare (``write``: and write) its entry."""
    path = Path(path)
    check_address(url)
    original, registry = read_registry(path)
    for source in registry.sources:
        if same_shop(source.url, url):
            raise AddError(_("%(url)s est déjà inscrite sous l'identifiant « %(id)s »", url=url, id=source.id))

    fetch = fetch or http_fetcher(allow_private=allow_private, user_agent=user_agent)
    found = survey(url, fetch, kind=kind)
    name = name or found.name or urlsplit(url).hostname or url
    town = town or found.declared.get("town")
    postcode = postcode or found.declared.get("postcode")
    missing = [flag for flag, value in (("--town", town), ("--postcode", postcode)) if not value]
    if missing:
        if len(missing) == 2:
            raise AddError(
                _("%(url)s ne donne pas son adresse dans ses pages : précisez --town et --postcode", url=url)
            )
        raise AddError(
            _("%(url)s ne donne pas son adresse dans ses pages : précisez %(flag)s", url=url, flag=missing[0])
        )
    known = {s.id for s in registry.sources}
    if id is not None and id in known:
        raise AddError(_("l'identifiant « %(id)s » est déjà pris", id=id))
    source_id = id or unique_id(slugify(name), known)
    entry = new_entry(
        id=source_id,
        name=name,
        url=url,
        detection=found.detection,
        town=town or "",
        postcode=str(postcode),
        extra={
            "address": found.declared.get("address"),
            "telephone": found.declared.get("telephone"),
            "geo": declared_geo(found.declared),
            "chamber": chamber if chamber != registry.defaults.chamber else None,
        },
        allow_private=allow_private,
    )
    note = _(
        "ajouté par « emplettes sources add » le %(day)s : détecté %(summary)s",
        day=date.today().isoformat(),
        summary=found.detection.summary(),
    )
    text = append_entries(original, path, [(entry, note)])
    added = Added(source_id, found.detection, text[text.index(f"  # {note}") :], text, path, original)
    if write:
        added.write()
    return added


def _title(page: bytes) -> str | None:
    match = re.search(rb"<title[^>]*>(.*?)</title>", page or b"", re.S | re.I)
    if not match:
        return None
    title = html.unescape(match.group(1).decode("utf-8", "replace")).strip()
    return re.split(r"\s+[–|—-]\s+", title)[0].strip() or None


def write_registry(path: Path, text: str, *, expected: str | None = None) -> None:
    """Replace the registry in one move (a reader sees the old file or the new one, never
    half of one); refuse when it changed since it was read (``expected``)."""
    if expected is not None:
        try:
            current = path.read_text(encoding="utf-8") if path.exists() else "sources:\n"
        except (OSError, UnicodeDecodeError) as exc:
            raise AddError(_("%(path)s ne peut pas être relu : %(why)s", path=path, why=_os_reason(exc))) from exc
        if current != expected:
            raise AddError(_("%(path)s a été modifié pendant la détection : relancez la commande", path=path))
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        raise AddError(_("%(path)s ne peut pas être écrit : %(why)s", path=path, why=_os_reason(exc))) from exc
