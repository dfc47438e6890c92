"""The registry of shop sources (``sources.yaml``): the only file chambers edit.

Loading validates every entry and reports *every* problem as ``file:LINE: field: message``
before anything is crawled: a registry either loads whole or not at all. The file is read
with ruamel.yaml's round-trip loader, which keeps line numbers (and, for editing commands,
the chamber's comments and order).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from indexer.records import Service

# Kinds of source; "website" (schema.org / OpenGraph markup) is the universal fallback.
Kind = Literal["website", "shopify", "woocommerce", "feed", "social", "platform"]

_SCHEDULE = re.compile(
    r"^(hourly|daily|weekly|every \d+ ?(m|min|h|d)|(\S+\s+){4}\S+)$"  # keywords, "every 6h", cron
)


# A chamber's id (``cci-touraine``): the dashboard's accounts name it, so a slug like source ids.
_CHAMBER = r"^[a-z0-9][a-z0-9-]{0,62}$"


class Geo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Defaults(BaseModel):
    """Region-wide defaults, overridden per source."""

    model_config = ConfigDict(extra="forbid")
    schedule: str = "daily"
    max_pages: int = Field(default=500, ge=1, le=100_000)
    services: list[Service] = Field(default_factory=list)
    chamber: str | None = Field(default=None, pattern=_CHAMBER, description="the chamber its sources belong to")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return _check_schedule(value)


_PLATFORM_FIELDS = Literal[
    "name", "price", "currency", "availability", "image", "description", "brand", "sku", "gtin", "category"
]


def _check_selector(value: str) -> str:
    """A CSS selector (``a.card::attr(href)``) or an XPath (starting with ``/`` or ``(``)."""
    from parsel import Selector  # Scrapy's selectors; imported here to keep loading light

    value = value.strip()
    try:
        probe = Selector(text="<html></html>")
        probe.xpath(value) if value.startswith(("/", "(")) else probe.css(value)
    except Exception as exc:  # cssselect and lxml raise several kinds
        kind = "XPath" if value.startswith(("/", "(")) else "CSS selector"
        raise ValueError(f"invalid {kind} {value!r}: {exc}") from None
    return value


class PlatformShop(BaseModel):
    """Where one shop of a chamber platform is, when the platform's pages do not say."""

    model_config = ConfigDict(extra="forbid")
    town: str | None = None
    postcode: str | None = Field(default=None, pattern=r"^\d{5}$")
    address: str | None = None
    geo: Geo | None = None


class PlatformConfig(BaseModel):
    """How to read a chamber-run platform (one site, many shops) with selectors, not Python."""

    model_config = ConfigDict(extra="forbid")
    listings: list[str] = Field(min_length=1, description="listing pages to start from (paths or URLs)")
    product_links: str = Field(description="selector of product page links on a listing")
    next_page: str | None = Field(default=None, description="selector of the next listing page's link")
    shop_name: str = Field(description="selector, on a product page, of the name of the shop selling it")
    shop_link: str | None = Field(default=None, description="selector of the link to that shop's page")
    fields: dict[_PLATFORM_FIELDS, str] = Field(default_factory=dict, description="product fields the markup lacks")
    shops: dict[str, PlatformShop] = Field(default_factory=dict, description="per shop name: town, postcode...")

    @field_validator("product_links", "next_page", "shop_name", "shop_link")
    @classmethod
    def _selector(cls, value: str | None) -> str | None:
        return None if value is None else _check_selector(value)

    @field_validator("fields")
    @classmethod
    def _field_selectors(cls, value: dict) -> dict:
        return {key: _check_selector(selector) for key, selector in value.items()}


class Source(BaseModel):
    """One shop source (or one chamber platform holding many shops)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="stable slug, used in run files and ids")
    name: str = Field(min_length=1, description="shop name as residents know it")
    url: str = Field(description="shop home page (http or https)")
    kind: Kind | None = Field(default=None, description="detected when absent")
    town: str = Field(min_length=1)
    postcode: str = Field(pattern=r"^\d{5}$", description="French postcode, 5 digits")
    address: str | None = None
    telephone: str | None = None
    geo: Geo | None = None
    categories: list[str] = Field(default_factory=list)
    services: list[Service] | None = None
    schedule: str | None = None
    sitemap: str | None = Field(default=None, description="sitemap URL when robots.txt does not list it")
    feed: str | None = Field(
        default=None, description="product feed URL (RSS/Atom with g: fields, CSV/TSV) for kind: feed"
    )
    max_pages: int | None = Field(default=None, ge=1, le=100_000)
    allow_private: bool = Field(default=False, description="allow loopback/private addresses (tests, demo)")
    chamber: str | None = Field(
        default=None, pattern=_CHAMBER, description="the chamber whose staff see it on the dashboard"
    )
    platform: PlatformConfig | None = Field(
        default=None, description="kind: platform: how to read the chamber's platform"
    )

    @model_validator(mode="after")
    def _platform_block(self) -> Source:
        if self.kind == "platform" and self.platform is None:
            raise ValueError("kind: platform needs a 'platform:' block (listings, product_links, shop_name)")
        if self.platform is not None and self.kind not in (None, "platform"):
            raise ValueError(f"a 'platform:' block is only for kind: platform (this source is kind: {self.kind})")
        if self.platform is not None:
            self.kind = "platform"
        return self

    @field_validator("postcode", mode="before")
    @classmethod
    def _postcode_from_number(cls, value: Any) -> Any:
        # Unquoted `postcode: 41000` arrives as an int; `01000` would lose its zero, so pad.
        return f"{value:05d}" if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("url", "sitemap", "feed")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/?#]+", value):
            raise ValueError("must be an http:// or https:// address")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return None if value is None else _check_schedule(value)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        return [c.strip().lower() for c in value if c.strip()]

    def with_defaults(self, defaults: Defaults) -> Source:
        return self.model_copy(
            update={
                "schedule": self.schedule or defaults.schedule,
                "max_pages": self.max_pages or defaults.max_pages,
                "services": self.services if self.services is not None else list(defaults.services),
                "chamber": self.chamber or defaults.chamber,
            }
        )


def _check_schedule(value: str) -> str:
    if not _SCHEDULE.match(value.strip()):
        raise ValueError("expected 'hourly', 'daily', 'weekly', 'every 6h' or a 5-field cron expression")
    return value.strip()


class RegistryError(ValueError):
    """Every problem of a registry file, one ``file:line: field: message`` per line."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Registry:
    path: Path
    defaults: Defaults
    sources: tuple[Source, ...]

    def get(self, source_id: str) -> Source:
        for source in self.sources:
            if source.id == source_id:
                return source
        raise KeyError(source_id)

    def select(self, ids: list[str] | None) -> list[Source]:
        """The sources named by ``ids`` (all when empty); unknown ids are an error."""
        if not ids:
            return list(self.sources)
        known = {s.id for s in self.sources}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise RegistryError([f"{self.path}: unknown source id: {', '.join(unknown)}"])
        return [s for s in self.sources if s.id in ids]


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError([f"{path}: cannot read: {exc.strerror or exc}"]) from exc
    return parse_registry(text, path)


def parse_registry(text: str, path: str | Path = "sources.yaml") -> Registry:
    path = Path(path)
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise RegistryError([f"{path}:{line}: yaml: {exc.problem or exc}"]) from exc

    problems: list[str] = []
    if not isinstance(doc, CommentedMap) or "sources" not in doc:
        raise RegistryError([f"{path}:1: sources: the file needs a top-level 'sources:' list"])

    defaults = Defaults()
    if doc.get("defaults") is not None:
        try:
            defaults = Defaults.model_validate(_plain(doc["defaults"]))
        except ValidationError as exc:
            problems += _report(path, doc["defaults"], exc, "defaults", _line_of_key(doc, "defaults"))

    for key in doc:
        if key not in ("sources", "defaults"):
            problems.append(
                f"{path}:{_line_of_key(doc, key)}: {key}: unknown top-level key (expected 'sources' or 'defaults')"
            )

    entries = doc["sources"]
    if not isinstance(entries, CommentedSeq):
        raise RegistryError([*problems, f"{path}:{_line_of_key(doc, 'sources')}: sources: must be a list of entries"])

    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        entry_line = entries.lc.item(index)[0] + 1
        if not isinstance(entry, CommentedMap):
            problems.append(f"{path}:{entry_line}: sources[{index}]: each entry must be a mapping of fields")
            continue
        try:
            source = Source.model_validate(_plain(entry)).with_defaults(defaults)
        except ValidationError as exc:
            problems += _report(path, entry, exc, None, entry_line)
            continue
        if source.id in seen:
            problems.append(
                f"{path}:{_line_of_key(entry, 'id')}: id: duplicate source id {source.id!r}"
                f" (first at line {seen[source.id]})"
            )
            continue
        seen[source.id] = _line_of_key(entry, "id")
        sources.append(source)

    if problems:
        raise RegistryError(problems)
    return Registry(path=path, defaults=defaults, sources=tuple(sources))


def _plain(node: Any) -> Any:
    """Round-trip YAML containers as plain dicts and lists for pydantic."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def _line_of_key(mapping: CommentedMap, key: str) -> int:
    try:
        return mapping.lc.key(key)[0] + 1
    except (KeyError, AttributeError, TypeError):
        return mapping.lc.line + 1


def _report(path: Path, node: CommentedMap, exc: ValidationError, prefix: str | None, fallback_line: int) -> list[str]:
    """Turn pydantic errors into ``file:line: field: message``, pointing at the field's own line."""
    out = []
    for error in exc.errors():
        loc = [p for p in error["loc"] if p not in ("function-after",)]
        field_path = ".".join(str(p) for p in loc) or "entry"
        line = _line_of_path(node, loc, fallback_line)
        message = error["msg"]
        if error["type"] == "missing":
            message = "required field is missing"
        elif error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "string_pattern_mismatch" and loc and loc[-1] in ("id", "chamber"):
            message = "use lowercase letters, digits and dashes (e.g. 'boulangerie-martin')"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        label = f"{prefix}.{field_path}" if prefix else field_path
        entry_id = node.get("id") if isinstance(node, dict) else None
        where = f" (source {entry_id!r})" if entry_id and isinstance(entry_id, str) and field_path != "id" else ""
        out.append(f"{path}:{line}: {label}: {message}{where}")
    return out


def _line_of_path(node: Any, loc: list, fallback: int) -> int:
    line = fallback
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        except (KeyError, AttributeError, TypeError):
            break
    return line
