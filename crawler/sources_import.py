"""``emplettes sources import FILE``: a chamber's list of members (CSV or .xlsx) into the registry.

Chambers keep their members in spreadsheets whose columns are named in French, each its own
way (« Nom », « Enseigne », « Site web », « CP », « Ville »...): :data:`COLUMNS` maps the
usual variants. Each row is detected like ``sources add`` (:func:`crawler.sources_add.survey`),
validated like a registry entry, and reported (ajoutée, déjà inscrite, injoignable, aucun
produit trouvé, invalide); the registry is written once, at the end, in one move, and only if
the whole result loads: an error half-way leaves the file as it was.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from config.i18n import _, ngettext
from crawler.detect import Fetch, http_fetcher
from crawler.registry import Source, error_message
from crawler.sources_add import (
    AddError,
    NoProducts,
    Unreachable,
    append_entries,
    check_address,
    declared_geo,
    new_entry,
    read_registry,
    same_shop,
    slugify,
    survey,
    unique_id,
    write_registry,
)
from indexer.analysis import fold

# Registry field -> the column names chambers use for it (compared folded: case, accents,
# spaces and punctuation ignored).
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "nom",
        "nom commercial",
        "enseigne",
        "raison sociale",
        "boutique",
        "commerce",
        "nom de la boutique",
        "name",
    ),
    "url": ("site", "site web", "site internet", "url", "adresse web", "adresse du site", "web", "internet", "website"),
    "town": ("commune", "ville", "localite", "town", "city"),
    "postcode": ("code postal", "cp", "code postal commune", "postcode", "zip"),
    "categories": ("categories", "categorie", "activite", "activites", "metier", "metiers", "rubrique", "secteur"),
    "services": ("services", "service"),
    "telephone": ("telephone", "tel", "phone", "numero de telephone", "portable"),
    "address": ("adresse", "adresse postale", "rue", "address"),
    "id": ("identifiant", "id"),
}

# What chambers write in a services column -> the registry's services.
SERVICES = {
    "click and collect": "click_and_collect",
    "click collect": "click_and_collect",
    "retrait": "click_and_collect",
    "retrait en boutique": "click_and_collect",
    "retrait en magasin": "click_and_collect",
    "livraison": "delivery",
    "livraison a domicile": "delivery",
    "delivery": "delivery",
    "cheques cadeaux": "gift_vouchers",
    "cheque cadeau": "gift_vouchers",
    "cheques cadeau": "gift_vouchers",
    "bons d achat": "gift_vouchers",
    "cartes cadeaux": "gift_vouchers",
    "carte cadeau": "gift_vouchers",
}

ADDED, REGISTERED, UNREACHABLE, NO_PRODUCTS, INVALID = "added", "registered", "unreachable", "no_products", "invalid"


def outcome_label(outcome: str) -> str:
    return {
        ADDED: _("ajoutée"),
        REGISTERED: _("déjà inscrite"),
        UNREACHABLE: _("injoignable"),
        NO_PRODUCTS: _("aucun produit trouvé"),
        INVALID: _("invalide"),
    }[outcome]


class ImportFileError(ValueError):
    """The list itself cannot be read (missing, not CSV/.xlsx, no recognised column)."""


@dataclass
class RowReport:
    line: int
    name: str
    outcome: str
    detail: str = ""
    id: str | None = None


@dataclass
class ImportResult:
    rows: list[RowReport] = field(default_factory=list)
    text: str | None = None  # the new registry, when a row was added
    path: Path | None = None
    original: str = ""

    @property
    def added(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome == ADDED]

    @property
    def problems(self) -> list[RowReport]:
        return [r for r in self.rows if r.outcome not in (ADDED, REGISTERED)]

    def write(self) -> None:
        if self.text is not None and self.path is not None:
            write_registry(self.path, self.text, expected=self.original)

    def summary(self) -> str:
        return ngettext(
            "%(num)s ligne : %(added)s ajoutée(s), %(registered)s déjà inscrite(s), %(problems)s à revoir",
            "%(num)s lignes : %(added)s ajoutée(s), %(registered)s déjà inscrite(s), %(problems)s à revoir",
            len(self.rows),
            added=len(self.added),
            registered=sum(r.outcome == REGISTERED for r in self.rows),
            problems=len(self.problems),
        )


# -- reading the list ----------------------------------------------------------------------------


def _key(header: object) -> str:
    return " ".join(fold(str(header or "")).split())


def map_columns(headers: list[object]) -> dict[str, int]:
    """Registry field -> index of its column; an :class:`ImportFileError` without name and site."""
    variants = {_key(v): fieldname for fieldname, names in COLUMNS.items() for v in names}
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        fieldname = variants.get(_key(header))
        if fieldname and fieldname not in mapping:
            mapping[fieldname] = index
    if "url" not in mapping:
        raise ImportFileError(
            _(
                "aucune colonne de site parmi %(headers)s : nommez-la « site » (ou %(variants)s)",
                headers=", ".join(f"« {h} »" for h in headers if str(h or "").strip()) or _("(ligne d'en-tête vide)"),
                variants=", ".join(f"« {v} »" for v in COLUMNS["url"][1:5]),
            )
        )
    return mapping


def _decode(data: bytes, path: Path) -> str:
    # Spreadsheets export CSV as UTF-8 (with or without BOM) or, from Excel in France, Windows-1252.
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(_("%(path)s n'est ni en UTF-8 ni en Windows-1252 : réenregistrez-le en CSV UTF-8", path=path))


def read_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    """``(line number, cells)`` of every row, the header row first."""
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            yield from _xlsx_rows(path)
            return
        data = path.read_bytes()
    except ImportFileError:
        raise
    except IsADirectoryError as exc:
        raise ImportFileError(_("%(path)s est un dossier, pas une liste CSV ou .xlsx", path=path)) from exc
    except FileNotFoundError as exc:
        raise ImportFileError(_("%(path)s n'existe pas", path=path)) from exc
    except OSError as exc:
        raise ImportFileError(_("%(path)s ne peut pas être lu : %(why)s", path=path, why=exc.strerror or exc)) from exc
    if path.suffix.lower() in (".xls", ".ods"):
        raise ImportFileError(_("%(path)s : enregistrez la liste en .xlsx ou en CSV", path=path))
    text = _decode(data, path)
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1):
            yield number, list(row)
    except csv.Error as exc:
        raise ImportFileError(_("%(path)s n'est pas un CSV lisible : %(why)s", path=path, why=exc)) from exc


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[object]]]:
    from zipfile import BadZipFile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except FileNotFoundError as exc:
        raise ImportFileError(_("%(path)s n'existe pas", path=path)) from exc
    except (BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(_("%(path)s n'est pas un classeur .xlsx lisible", path=path)) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _cell(row: list[object], mapping: dict[str, int], fieldname: str) -> str:
    index = mapping.get(fieldname)
    if index is None or index >= len(row) or row[index] is None:
        return ""
    value = row[index]
    if isinstance(value, float) and value.is_integer():  # a spreadsheet's 37000.0
        value = int(value)
    return " ".join(str(value).split())


def _split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,;/|]", text) if part.strip()]


def _services(text: str) -> tuple[list[str], list[str]]:
    known, unknown = [], []
    for part in _split(text):
        service = SERVICES.get(_key(part)) or (
            part if part in ("click_and_collect", "delivery", "gift_vouchers") else None
        )
        if service and service not in known:
            known.append(service)
        elif not service:
            unknown.append(part)
    return known, unknown


def _postcode(text: str) -> str:
    return text.replace(" ", "")


# -- importing -----------------------------------------------------------------------------------


def import_sources(
    path: str | Path,
    registry_path: str | Path,
    *,
    allow_private: bool = False,
    user_agent: str = "emplettes",
    fetch: Fetch | None = None,
    sample_pages: int = 5,
    progress: Callable[[int, int, str], None] | None = None,
) -> ImportResult:
    """Detect and validate every row of the list; the new registry text in the result (written
    by :meth:`ImportResult.write`). Raises :class:`ImportFileError` or :class:`AddError` (the
    registry does not load) before any request."""
    path, registry_path = Path(path), Path(registry_path)
    original, registry = read_registry(registry_path)
    rows = list(read_rows(path))
    header_at = next((i for i, (_n, cells) in enumerate(rows) if any(str(c or "").strip() for c in cells)), None)
    if header_at is None:
        raise ImportFileError(_("%(path)s est vide", path=path))
    mapping = map_columns(rows[header_at][1])
    body = [(n, cells) for n, cells in rows[header_at + 1 :] if any(str(c or "").strip() for c in cells)]

    fetch = fetch or http_fetcher(allow_private=allow_private, user_agent=user_agent)
    known_ids = {s.id for s in registry.sources}
    urls = [(s.url, s.id) for s in registry.sources]
    result = ImportResult(path=registry_path, original=original)
    entries = []
    today = date.today().isoformat()
    for done, (line, cells) in enumerate(body):
        name = _cell(cells, mapping, "name")
        url = _cell(cells, mapping, "url")
        if url and not re.match(r"^https?://", url, re.I) and "." in url and " " not in url:
            url = "https://" + url  # « www.boutique.fr » as typed in a spreadsheet
        if progress:
            progress(done, len(body), name or url)
        report = RowReport(line, name or url or "?", INVALID)
        result.rows.append(report)
        if not url:
            report.detail = _("pas d'adresse de site")
            continue
        try:
            check_address(url)
        except AddError as exc:
            report.detail = str(exc)
            continue
        already = next((sid for known_url, sid in urls if same_shop(known_url, url)), None)
        if already:
            report.outcome, report.id = REGISTERED, already
            report.detail = _("sous l'identifiant « %(id)s »", id=already)
            continue
        town, postcode = _cell(cells, mapping, "town"), _postcode(_cell(cells, mapping, "postcode"))
        if town and postcode:  # the place is checked before any request: a typo needs no visit
            problem = _entry_problem(
                {"id": "x", "name": "x", "url": url, "town": town, "postcode": postcode}, registry.defaults.departments
            )
            if problem:
                report.detail = problem
                continue
        try:
            found = survey(url, fetch, sample_pages=sample_pages, allow_private=allow_private, user_agent=user_agent)
        except Unreachable as exc:
            report.outcome, report.detail = UNREACHABLE, str(exc)
            continue
        except NoProducts as exc:
            report.outcome, report.detail = NO_PRODUCTS, str(exc)
            continue
        except AddError as exc:
            report.detail = str(exc)
            continue
        name = name or found.name or ""
        report.name = name or url
        services, unknown_services = _services(_cell(cells, mapping, "services"))
        if unknown_services:
            report.detail = _(
                "services inconnus : %(unknown)s (retrait en boutique, livraison, chèques cadeaux)",
                unknown=", ".join(unknown_services),
            )
            continue
        fields = {
            "town": town or found.declared.get("town") or "",
            "postcode": postcode or _postcode(str(found.declared.get("postcode") or "")),
            "address": _cell(cells, mapping, "address") or found.declared.get("address"),
            "telephone": _cell(cells, mapping, "telephone") or found.declared.get("telephone"),
            "categories": [c.lower() for c in _split(_cell(cells, mapping, "categories"))],
            "services": services,
        }
        wanted_id = _cell(cells, mapping, "id")
        source_id = wanted_id or unique_id(slugify(name or url), known_ids)
        problem = _entry_problem(
            {"id": source_id, "name": name, "url": url, **fields, "allow_private": allow_private},
            registry.defaults.departments,
        )
        if problem is None and wanted_id in known_ids:
            problem = _("l'identifiant « %(id)s » est déjà pris", id=wanted_id)
        if problem:
            report.detail = problem
            continue
        extra = {key: fields[key] for key in ("address", "telephone", "categories", "services")}
        extra["geo"] = declared_geo(found.declared)
        entry = new_entry(
            id=source_id,
            name=name,
            url=url,
            detection=found.detection,
            town=fields["town"],
            postcode=fields["postcode"],
            extra=extra,
            allow_private=allow_private,
        )
        note = _(
            "importé de %(file)s (ligne %(line)s) le %(day)s : détecté %(summary)s",
            file=path.name,
            line=line,
            day=today,
            summary=found.detection.summary(),
        )
        entries.append((entry, note))
        known_ids.add(source_id)
        urls.append((url, source_id))
        report.outcome, report.id = ADDED, source_id
        report.detail = found.detection.summary()
    if progress:
        progress(len(body), len(body), "")
    if entries:
        result.text = append_entries(original, registry_path, entries)
    return result


def _entry_problem(fields: dict, departments: list[str]) -> str | None:
    """Why the entry would not load, one line per field (the registry's own rules)."""
    try:
        Source.model_validate(fields, context={"departments": departments})
    except ValidationError as exc:
        return " ; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or _('entrée')} : {error_message(error)}"
            for error in exc.errors()
        )
    return None
