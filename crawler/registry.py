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

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.reader import ReaderError

from config.i18n import _
from config.reasons import validation_reason
from crawler.yaml_hints import yaml_hint
from indexer.communes import centre_of, postcode_problem, town_problem
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
    departments: list[str] = Field(
        default_factory=list, description="the region's départements: every postcode must be in one of them"
    )
    chamber: str | None = Field(default=None, pattern=_CHAMBER, description="the chamber its sources belong to")

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        return _check_schedule(value)

    @field_validator("departments", mode="before")
    @classmethod
    def _departments(cls, value: Any) -> Any:
        # `departments: [37, 41]` unquoted arrives as numbers.
        return [str(d) for d in value] if isinstance(value, list) else value

    @field_validator("departments")
    @classmethod
    def _department_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not re.fullmatch(r"\d{2}|2[AB]|97\d", code):
                raise ValueError(_("%(code)r n'est pas un numéro de département (deux chiffres, « 37 »)", code=code))
        return value


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
        kind = "XPath" if value.startswith(("/", "(")) else _("sélecteur CSS")
        raise ValueError(_("%(kind)s invalide %(value)r : %(why)s", kind=kind, value=value, why=exc)) from None
    return value


class Place(BaseModel):
    """Where a shop is: its postcode has five digits, lies in the region's départements
    (``defaults.departments``, given as validation context) and belongs to its town, all
    checked against the bundled communes (indexer.communes); ``geo`` is the town's centre
    when none is given. One rule for a registry entry and for each shop of a chamber
    platform: subclasses declare ``postcode`` before ``town`` (the town is checked against
    it), plus ``geo``."""

    _geo_is_town_centre: bool = PrivateAttr(default=False)

    @field_validator("postcode", mode="before", check_fields=False)
    @classmethod
    def _postcode_from_number(cls, value: Any) -> Any:
        # Unquoted `postcode: 41000` arrives as an int. `3760` is not padded into `03760`
        # (a postcode of the Allier): a missing digit is a typo to show, not to guess.
        if isinstance(value, int) and not isinstance(value, bool):
            if not 10000 <= value <= 99999:
                raise ValueError(
                    _(
                        "un code postal a cinq chiffres, %(value)s n'en a que %(digits)s ; s'il commence "
                        'par 0, écrivez-le entre guillemets ("03760")',
                        value=value,
                        digits=len(str(abs(value))),
                    )
                )
            return str(value)
        return value

    @field_validator("postcode", check_fields=False)
    @classmethod
    def _postcode_exists(cls, postcode: str | None, info: ValidationInfo) -> str | None:
        problem = None if postcode is None else postcode_problem(postcode, (info.context or {}).get("departments"))
        if problem:
            raise ValueError(problem)
        return postcode

    @field_validator("town", check_fields=False)
    @classmethod
    def _town_has_postcode(cls, town: str | None, info: ValidationInfo) -> str | None:
        postcode = info.data.get("postcode")  # absent when the postcode itself was refused
        problem = town_problem(town, postcode) if postcode and town else None
        if problem:
            raise ValueError(problem)
        return town

    @model_validator(mode="after")
    def _geo_from_town(self) -> Any:
        if self.geo is None and self.town and self.postcode and (centre := centre_of(self.town, self.postcode)):
            self.geo = Geo(lat=centre[0], lon=centre[1])
            self._geo_is_town_centre = True
        return self

    @property
    def geo_is_town_centre(self) -> bool:
        """``geo`` is the centre of the town (bundled communes), not a point the chamber gave:
        a shop's own markup, when it declares one, is more precise."""
        return self._geo_is_town_centre


class PlatformShop(Place):
    """Where one shop of a chamber platform is, when the platform's pages do not say."""

    model_config = ConfigDict(extra="forbid")
    postcode: str | None = Field(default=None, pattern=r"^\d{5}$")
    town: str | None = None
    address: str | None = None
    geo: Geo | None = None

    @model_validator(mode="after")
    def _town_with_postcode(self) -> PlatformShop:
        # Half a place would borrow the other half from the platform's own entry, unchecked.
        if (self.town is None) != (self.postcode is None):
            raise ValueError(
                _(
                    "une boutique de la plateforme ailleurs que la plateforme donne sa commune et son code "
                    'postal ensemble (town: Vineuil, postcode: "41350")'
                )
            )
        return self


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


class Source(Place):
    """One shop source (or one chamber platform holding many shops)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="stable slug, used in run files and ids")
    name: str = Field(min_length=1, description="shop name as residents know it")
    url: str = Field(description="shop home page (http or https)")
    kind: Kind | None = Field(default=None, description="detected when absent")
    # The postcode is validated before the town, which is checked against it (indexer.communes).
    postcode: str = Field(pattern=r"^\d{5}$", description="French postcode, 5 digits")
    town: str = Field(min_length=1)
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
            raise ValueError(_("kind: platform demande un bloc « platform: » (listings, product_links, shop_name)"))
        if self.platform is not None and self.kind not in (None, "platform"):
            raise ValueError(
                _(
                    "un bloc « platform: » ne va qu'avec kind: platform (cette source est kind: %(kind)s)",
                    kind=self.kind,
                )
            )
        if self.platform is not None:
            self.kind = "platform"
        return self

    @field_validator("url", "sitemap", "feed")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^\s/?#]+", value):
            raise ValueError(_("doit être une adresse http:// ou https://"))
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
        raise ValueError(
            _("attendu : « hourly », « daily », « weekly », « every 6h » ou une expression cron à 5 champs")
        )
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
            raise RegistryError(
                [_("%(path)s : identifiant de source inconnu : %(ids)s", path=self.path, ids=", ".join(unknown))]
            )
        return [s for s in self.sources if s.id in ids]


def load_registry(path: str | Path) -> Registry:
    path = Path(path)
    return parse_registry(read_registry_text(path), path)


def read_registry_text(path: str | Path) -> str:
    """The text of a registry file; a byte that is not UTF-8 is a ``FILE:LINE`` problem."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegistryError([_("%(path)s : lecture impossible : %(why)s", path=path, why=exc.strerror or exc)]) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex().upper()
        message = _("octet 0x%(byte)s invalide : le fichier doit être enregistré en UTF-8", byte=byte)
        raise RegistryError([f"{path}:{line}: yaml : {message}"]) from None


# What a registry may ask of the YAML reader. Anchors and aliases are allowed (a chamber may
# share one list of services), but an alias is expanded wherever it is used: nested, a
# few hundred bytes would expand into billions of values ("billion laughs").
MAX_ALIAS_NODES = 10_000  # values that all the aliases of a file may add, in total
MAX_DEPTH = 64  # nested lists and mappings; a registry entry needs four or five


def parse_registry(text: str, path: str | Path = "sources.yaml") -> Registry:
    path = Path(path)
    try:
        _check_flow_depth(text, path)
        yaml = YAML(typ="rt")
        yaml.Composer = _BoundedComposer
        doc = yaml.load(text)
    except _ShapeProblem as exc:
        raise RegistryError([f"{path}:{exc.line}: yaml : {exc.message}"]) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        raise RegistryError([f"{path}:{line}: yaml : {yaml_hint(str(exc.problem or exc))}"]) from exc
    except ReaderError as exc:  # a character YAML refuses (NUL, other controls)
        line = text.count("\n", 0, max(0, exc.position)) + 1
        message = _("caractère interdit U+%(code)04X (octet nul ou de contrôle)", code=exc.character)
        raise RegistryError([f"{path}:{line}: yaml : {message}"]) from None
    except (YAMLError, RecursionError) as exc:  # depth is bounded above: a last line of defence
        raise RegistryError([f"{path}:1: yaml : {_('fichier illisible')} ({type(exc).__name__})"]) from None

    problems: list[str] = []
    if not isinstance(doc, CommentedMap) or "sources" not in doc:
        raise RegistryError(
            [_("%(path)s:1: sources : le fichier doit commencer par une liste « sources: »", path=path)]
        )

    defaults = Defaults()
    if doc.get("defaults") is not None:
        try:
            defaults = Defaults.model_validate(_plain(doc["defaults"]))
        except ValidationError as exc:
            problems += _report(path, doc["defaults"], exc, "defaults", _line_of_key(doc, "defaults"))

    for key in doc:
        if key not in ("sources", "defaults"):
            problems.append(
                _(
                    "%(where)s: %(key)s : clé inconnue au premier niveau (attendu : « sources » ou « defaults »)",
                    where=f"{path}:{_line_of_key(doc, key)}",
                    key=key,
                )
            )

    entries = doc["sources"]
    if not isinstance(entries, CommentedSeq):
        raise RegistryError(
            [
                *problems,
                _("%(where)s: sources : doit être une liste d'entrées", where=f"{path}:{_line_of_key(doc, 'sources')}"),
            ]
        )

    sources: list[Source] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        entry_line = entries.lc.item(index)[0] + 1
        if not isinstance(entry, CommentedMap):
            problems.append(
                _(
                    "%(where)s: sources[%(index)s] : chaque entrée est un ensemble de champs (id:, name:, url:…)",
                    where=f"{path}:{entry_line}",
                    index=index,
                )
            )
            continue
        try:
            source = Source.model_validate(_plain(entry), context={"departments": defaults.departments}).with_defaults(
                defaults
            )
        except ValidationError as exc:
            problems += _report(path, entry, exc, None, entry_line)
            continue
        if source.id in seen:
            problems.append(
                _(
                    "%(where)s: id : l'identifiant « %(id)s » est déjà pris (ligne %(first)s)",
                    where=f"{path}:{_line_of_key(entry, 'id')}",
                    id=source.id,
                    first=seen[source.id],
                )
            )
            continue
        seen[source.id] = _line_of_key(entry, "id")
        sources.append(source)

    if problems:
        raise RegistryError(problems)
    return Registry(path=path, defaults=defaults, sources=tuple(sources))


def _check_flow_depth(text: str, path: Path) -> None:
    """Refuse lists or mappings written ``[[[[...`` deeper than ``MAX_DEPTH`` before the
    YAML scanner sees them: it looks ahead through all of them, for seconds, before the
    composer could count a single level."""
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if not ("[" in line or "{" in line or "]" in line or "}" in line):
            continue
        index = 0
        for match in _FLOW_SIGNS.finditer(line):
            if match.start() < index:
                continue  # inside a quoted string
            sign = match.group()
            before = line[match.start() - 1] if match.start() else " "
            if sign in "'\"" and before in " \t[{,:-":
                index = _after_quote(line, match.start())
            elif sign == "#" and before in " \t":
                break
            elif sign in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    raise RegistryError([f"{path}:{number}: yaml : {_too_deep()}"])
            elif sign in "]}":
                depth = max(0, depth - 1)


class _ShapeProblem(Exception):
    def __init__(self, line: int, message: str):
        self.line = line
        self.message = message


class _BoundedComposer(Composer):
    """ruamel.yaml's composer, counting as it builds: nesting beyond ``MAX_DEPTH`` and
    aliases adding more than ``MAX_ALIAS_NODES`` values in all are refused at the line
    where they happen. Each node's size (its values, aliases expanded) is known once it is
    built; an alias adds the size of the node it names, an alias of a node still being
    built (itself) counts as too many."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self._sizes: dict[int, int] = {}  # id(node) -> values it stands for, aliases expanded
        self._open: list[int] = []  # values so far in each node being built
        self._added = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            size = self._sizes.get(id(node), MAX_ALIAS_NODES + 1)
            self._added += size
            if self._added > MAX_ALIAS_NODES:
                raise _ShapeProblem(line, _too_many_aliases(event.anchor))
        else:
            if len(self._open) >= MAX_DEPTH:
                raise _ShapeProblem(line, _too_deep())
            self._open.append(1)
            try:
                node = super().compose_node(parent, index)
            finally:
                size = self._open.pop()
            self._sizes[id(node)] = size
        if self._open:
            self._open[-1] += size
        return node


def _too_many_aliases(alias: str) -> str:
    return _(
        "l'alias *%(alias)s se déploierait en plus de %(limit)s valeurs : "
        "écrivez ces valeurs en clair plutôt qu'avec des ancres (&) et des alias (*)",
        alias=alias,
        limit=f"{MAX_ALIAS_NODES:,}".replace(",", "\u202f"),
    )


_FLOW_SIGNS = re.compile(r"[\[\]{}'\"#]")


def _after_quote(line: str, start: int) -> int:
    """Where the quoted string opening at ``start`` ends (the line's end if it goes on)."""
    quote = line[start]
    index = start + 1
    while index < len(line):
        if line[index] == "\\" and quote == '"':
            index += 2
            continue
        if line[index] == quote:
            if quote == "'" and line[index + 1 : index + 2] == "'":  # '' is a quote inside '...'
                index += 2
                continue
            return index + 1
        index += 1
    return len(line)


def _too_deep() -> str:
    return _("listes ou tables imbriquées sur plus de %(limit)d niveaux", limit=MAX_DEPTH)


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
        field_path = ".".join(str(p) for p in loc) or _("entrée")
        line = _line_of_path(node, loc, fallback_line)
        label = f"{prefix}.{field_path}" if prefix else field_path
        entry_id = node.get("id") if isinstance(node, dict) else None
        where = (
            _(" (source « %(id)s »)", id=entry_id)
            if entry_id and isinstance(entry_id, str) and field_path != "id"
            else ""
        )
        out.append(f"{path}:{line}: {label} : {error_message(error)}{where}")
    return out


# Fields an entry may have, for "unknown field: did you mean...?"; the registry's fields are
# English, chambers sometimes write them in French.
_FIELDS = {*Source.model_fields, *Defaults.model_fields, *PlatformConfig.model_fields}
_FRENCH_FIELDS = {
    "nom": "name",
    "site": "url",
    "adresse": "address",
    "ville": "town",
    "commune": "town",
    "cp": "postcode",
    "code_postal": "postcode",
    "téléphone": "telephone",
    "categorie": "categories",
    "catégories": "categories",
    "type": "kind",
}


def error_message(error: Any) -> str:
    """One pydantic error in French, with what to write instead (shared with ``sources import``)."""
    loc = [p for p in error["loc"] if p not in ("function-after",)]
    last = str(loc[-1]) if loc else ""
    kind = error["type"]
    if kind == "extra_forbidden":
        import difflib

        close = (
            [_FRENCH_FIELDS[last]] if last in _FRENCH_FIELDS else difflib.get_close_matches(last, sorted(_FIELDS), n=1)
        )
        return _("champ inconnu ; voulez-vous dire « %(field)s » ?", field=close[0]) if close else _("champ inconnu")
    if kind == "string_pattern_mismatch" and last in ("id", "chamber"):
        return _("minuscules, chiffres et tirets seulement (ex. « boulangerie-martin »)")
    if kind == "string_pattern_mismatch" and last == "postcode":
        return _('un code postal a cinq chiffres, entre guillemets ("37000")')
    return validation_reason(error)


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
