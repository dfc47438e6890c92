"""The communes of the region: which postcodes exist, which town each names, where it lies.

A bundled list (``indexer/data/communes.json``, built from official open data: see
``indexer/data/README.md``) answers three questions for the registry and, later, the
portal: does this postcode exist in the region's départements, is it the postcode of this
town, and where is the town's centre (``geo`` when an entry gives none). Only the region's
départements are bundled; a département outside the list is neither checked nor filled.

``python -m indexer.communes COMMUNES_JSON LAPOSTE_CSV 18 28 36 37 41 45`` rebuilds the file.
"""

from __future__ import annotations

import difflib
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from config.i18n import _
from indexer.analysis import fold

DATA_FILE = Path(__file__).parent / "data" / "communes.json"

# La Poste writes "ST CYR SUR LOIRE", chambers "Saint-Cyr-sur-Loire": one spelling to compare.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def town_key(name: str) -> str:
    """Accents, case, hyphens, apostrophes and "St"/"Saint" ignored."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in fold(name).split())


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    department: str
    postcodes: tuple[str, ...]
    lat: float | None
    lon: float | None


class Communes:
    """Lookups over the bundled list (one instance per process: :func:`communes`)."""

    def __init__(self, data: dict):
        self.departments: dict[str, str] = data["departements"]
        self.all = [
            Commune(insee, name, dep, tuple(codes.split()), lat, lon)
            for insee, name, dep, codes, lat, lon in data["communes"]
        ]
        self._by_key: dict[tuple[str, str], list[Commune]] = {}
        self._by_postcode: dict[str, list[Commune]] = {}
        for commune in self.all:
            self._by_key.setdefault((commune.department, town_key(commune.name)), []).append(commune)
            for code in commune.postcodes:
                self._by_postcode.setdefault(code, []).append(commune)

    def covers(self, department: str) -> bool:
        return department in self.departments

    def with_postcode(self, postcode: str) -> list[Commune]:
        return self._by_postcode.get(postcode, [])

    def named(self, town: str, department: str) -> list[Commune]:
        return self._by_key.get((department, town_key(town)), [])

    def close_names(self, town: str, department: str) -> list[str]:
        names = {c.name: town_key(c.name) for c in self.all if c.department == department}
        by_key = {key: name for name, key in names.items()}
        return [by_key[k] for k in difflib.get_close_matches(town_key(town), list(by_key), n=3, cutoff=0.75)]


@cache
def communes() -> Communes:
    return Communes(json.loads(DATA_FILE.read_text(encoding="utf-8")))


def department_of(postcode: str) -> str:
    """The département a postcode belongs to: its first two digits (the region has no Corsica
    nor overseas postcodes, whose rules differ)."""
    return postcode[:2]


def _names(found: list[Commune]) -> str:
    names = sorted({c.name for c in found})
    if len(names) > 4:
        return ", ".join(names[:4]) + " …"
    return " et ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def _elide(word: str) -> str:
    """« de Tours », « d'Amboise »: French elides ``de`` before a vowel."""
    return f"d'{word}" if fold(word[:1]) in tuple("aeiouy") else f"de {word}"


def postcode_problem(postcode: str, departments: list[str] | None = None) -> str | None:
    """What is wrong with a (five-digit) postcode, with a hint; None when it exists in the
    region (or when the bundled list does not cover its département)."""
    department = department_of(postcode)
    if departments and department not in departments:
        return _(
            "%(postcode)s n'est pas dans les départements de la région (%(departments)s) : "
            "une faute de frappe ? Les départements sont dans « defaults.departments ».",
            postcode=postcode,
            departments=", ".join(departments),
        )
    table = communes()
    if table.covers(department) and not table.with_postcode(postcode):
        return _(
            "%(postcode)s n'est le code postal d'aucune commune du département %(department)s (%(name)s) ; "
            "vérifiez-le sur l'adresse de la boutique.",
            postcode=postcode,
            department=department,
            name=table.departments[department],
        )
    return None


def town_problem(town: str, postcode: str) -> str | None:
    """What is wrong with ``town`` at an existing ``postcode``, with a hint; None when the
    postcode is one of the town's (or when the bundled list does not cover it)."""
    department = department_of(postcode)
    table = communes()
    by_code = table.with_postcode(postcode)
    if not by_code:
        return None
    named = table.named(town, department)
    if any(postcode in c.postcodes for c in named):
        return None
    if named:
        codes = sorted({code for c in named for code in c.postcodes})
        return _(
            "%(postcode)s est le code postal %(of_places)s, pas %(of_town)s (%(town)s : %(codes)s)",
            postcode=postcode,
            of_places=_elide(_names(by_code)),
            of_town=_elide(named[0].name),
            town=named[0].name,
            codes=", ".join(codes),
        )
    close = table.close_names(town, department)
    hint = (
        _("voulez-vous dire %(names)s ?", names=" ou ".join(close))
        if close
        else _("%(postcode)s est le code postal %(of_places)s", postcode=postcode, of_places=_elide(_names(by_code)))
    )
    return _(
        "aucune commune « %(town)s » dans le département %(department)s (%(name)s) : %(hint)s",
        town=town,
        department=department,
        name=table.departments[department],
        hint=hint,
    )


def centre_of(town: str, postcode: str) -> tuple[float, float] | None:
    """The centre of the commune ``town`` at ``postcode``, when the bundled list has it."""
    for commune in communes().named(town, department_of(postcode)):
        if postcode in commune.postcodes and commune.lat is not None and commune.lon is not None:
            return commune.lat, commune.lon
    return None


# -- building the bundled file ------------------------------------------------------------------


def build(communes_json: Path, laposte_csv: Path, departments: list[str], departements_json: Path) -> dict:
    """The bundled data from Etalab's ``communes.json`` (names, postcodes: current COG) and La
    Poste's ``laposte_hexasmal.csv`` (the centre of each commune by its INSEE code)."""
    import csv

    centres: dict[str, tuple[float, float]] = {}
    with laposte_csv.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            lat_lon = (row.get("coordonnees_gps") or "").split(",")
            if len(lat_lon) == 2 and row["Code_commune_INSEE"] not in centres:
                centres[row["Code_commune_INSEE"]] = (round(float(lat_lon[0]), 4), round(float(lat_lon[1]), 4))
    entries = json.loads(communes_json.read_text(encoding="utf-8"))
    current = {e["code"]: e for e in entries if e["type"] == "commune-actuelle"}
    rows = []
    for entry in entries:
        if entry.get("departement") not in departments or entry["type"] == "arrondissement-municipal":
            continue
        # A commune déléguée keeps its name on letters and shop fronts; it shares the new
        # commune's postcodes, and its own centre when La Poste still lists it.
        head = current.get(entry.get("chefLieu", entry["code"]), entry)
        codes = entry.get("codesPostaux") or head.get("codesPostaux") or []
        centre = centres.get(entry["code"]) or next(
            (centres[c] for c in [head["code"], *head.get("anciensCodes", [])] if c in centres), None
        )
        rows.append([entry["code"], entry["nom"], entry["departement"], " ".join(codes), *(centre or (None, None))])
    names = {d["code"]: d["nom"] for d in json.loads(departements_json.read_text(encoding="utf-8"))}
    return {"departements": {d: names[d] for d in departments}, "communes": rows}


if __name__ == "__main__":  # pragma: no cover - run by hand when the COG changes
    source_dir, laposte, *deps = sys.argv[1:]
    data = build(Path(source_dir) / "communes.json", Path(laposte), deps, Path(source_dir) / "departements.json")
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace('],["', '],\n["')
    DATA_FILE.write_text(text + "\n", encoding="utf-8")
    print(f"{DATA_FILE}: {len(data['communes'])} communes")
