"""The resident queries and their hand-written judgment rules (``queries.yaml``), evaluated
into a grade (0-3) per product of the catalogue.

The file's header documents the rule language; in short, each query lists, per grade, one
rule or a list of rules (any may match), each rule a mapping of predicates (all must hold).
A product takes the highest grade whose rule it matches, 0 otherwise.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bench.relevance.catalogue import SHOPS, TOWNS
from indexer.backends.common import haversine_km

QUERIES_FILE = Path(__file__).with_name("queries.yaml")

# What a query exercises; the set covers each at least once.
KINDS = (
    "single",
    "plural",
    "accent",
    "no_accent",
    "elision",
    "two_words",
    "three_words",
    "trade",
    "shop_name",
    "brand",
    "town",
    "near",
    "typo",
    "no_answer",
    "trap",
)
PREDICATES = ("category", "shop_category", "name", "text", "brand", "shop", "near", "town")


class JudgmentError(ValueError):
    """A query or rule the file cannot hold; the message names the file, line and field."""


@dataclass
class Query:
    text: str
    kinds: tuple[str, ...]
    rules: dict[int, list[dict[str, Any]]]  # grade -> rules, any of which gives it
    expect_none: bool = False
    note: str = ""
    line: int = 0
    grades: dict[str, int] = field(default_factory=dict)  # product id -> grade > 0


def fold(text: str) -> str:
    """Lower case without accents (« Pâté » -> « pate »), « œ » as « oe ». The judgments'
    own folding: they must not lean on the analysis they judge."""
    text = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=65536)
def _words(value: str) -> str:
    """Folded text with single spaces around words, for whole-word ``in`` tests."""
    return " " + " ".join(re.findall(r"\w+", fold(value))) + " "


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class Catalogue:
    """The products a rule is evaluated over, indexed once: each predicate is a set of ids."""

    def __init__(self, products: Iterable[Mapping[str, Any]]):
        self.products = list(products)
        self.ids = [p["id"] for p in self.products]
        self._by: dict[str, dict[str, set[str]]] = {}
        for key, values in (
            ("category", lambda p: [p.get("category")]),
            ("shop_category", lambda p: p.get("categories") or []),
            ("brand", lambda p: [fold(p.get("brand") or "")]),
            ("shop", lambda p: [p.get("shop_id")]),
            ("town", lambda p: [p.get("town")]),
        ):
            index: dict[str, set[str]] = {}
            for p in self.products:
                for value in values(p):
                    index.setdefault(value, set()).add(p["id"])
            self._by[key] = index
        self._names = [(p["id"], _words(p.get("name") or "")) for p in self.products]
        self._texts = [
            (p["id"], _words(p.get("name") or "") + _words(p.get("description") or "")) for p in self.products
        ]

    def having(self, name: str, value: Any) -> set[str]:
        """The ids of the products that meet one predicate."""
        if name in ("name", "text"):
            words = [_words(v) for v in value]
            return {
                i
                for i, haystack in (self._names if name == "name" else self._texts)
                if any(w in haystack for w in words)
            }
        if name == "near":
            town, km = TOWNS[value[0]], float(value[1])
            return {
                p["id"]
                for p in self.products
                if p.get("lat") is not None and haversine_km(town.lat, town.lon, p["lat"], p["lon"]) <= km
            }
        keys = [fold(v) for v in value] if name == "brand" else value
        return set().union(*(self._by[name].get(k, set()) for k in keys))

    def matching(self, rule: Mapping[str, Any]) -> set[str]:
        """The ids of the products that meet every predicate of ``rule``."""
        found: set[str] | None = None
        for name, value in rule.items():
            ids = self.having(name, value)
            found = ids if found is None else found & ids
        return found or set()

    def grades(self, rules: Mapping[int, list[Mapping[str, Any]]]) -> dict[str, int]:
        """Product id -> the highest grade whose rule it meets (products graded 0 left out)."""
        grades: dict[str, int] = {}
        for level in sorted(rules, reverse=True):
            for rule in rules[level]:
                for product_id in self.matching(rule):
                    grades.setdefault(product_id, level)
        return grades


def _check_rule(rule: Any, where: str, known: Mapping[str, set[str]]) -> dict[str, Any]:
    if not isinstance(rule, Mapping) or not rule:
        raise JudgmentError(f"{where}: a rule is a mapping of predicates ({', '.join(PREDICATES)})")
    checked: dict[str, Any] = {}
    for name, value in rule.items():
        if name not in PREDICATES:
            raise JudgmentError(f"{where}: unknown predicate {name!r}; known: {', '.join(PREDICATES)}")
        if name == "near":
            if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], (int, float))):
                raise JudgmentError(f"{where}: near: expected [town, km]")
            if value[0] not in TOWNS:
                raise JudgmentError(f"{where}: near: unknown town {value[0]!r}")
            checked[name] = list(value)
            continue
        values = [str(v) for v in _as_list(value)]
        unknown = [v for v in values if name in known and v not in known[name]]
        if name in ("name", "text"):
            unknown = [v for v in values if _words(v) not in known["_text"]]
        if unknown:
            raise JudgmentError(f"{where}: {name}: {unknown[0]!r} is in no product of the catalogue")
        checked[name] = values
    return checked


def _known(products: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    products = list(products)
    return {
        "category": {p["category"] for p in products},
        "shop_category": {c for p in products for c in p["categories"]},
        "brand": {p["brand"] for p in products if p.get("brand")},
        "shop": {s.id for s in SHOPS},
        "town": set(TOWNS),
        "_text": " ".join(_words(p["name"]) + _words(p.get("description") or "") for p in products),
    }


def load_queries(products: Iterable[Mapping[str, Any]], path: Path = QUERIES_FILE) -> list[Query]:
    """The queries of ``path``, each with its products' grades computed over ``products``.
    Raises :class:`JudgmentError` naming ``path:line`` for a malformed query or a rule that
    refers to a category, shop, brand, town or word the catalogue does not hold."""
    products = list(products)
    known = _known(products)
    catalogue = Catalogue(products)
    data = YAML(typ="rt").load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise JudgmentError(f"{path}: expected a list of queries")
    queries: list[Query] = []
    seen: set[str] = set()
    for entry in data:
        line = entry.lc.line + 1 if hasattr(entry, "lc") else 0
        where = f"{path.name}:{line}"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("q"), str) or not entry["q"].strip():
            raise JudgmentError(f"{where}: q: each query needs its text")
        text = entry["q"]
        if text in seen:
            raise JudgmentError(f"{where}: q: {text!r} is already in the set")
        seen.add(text)
        kinds = tuple(str(k) for k in _as_list(entry.get("kinds") or []))
        if not kinds or any(k not in KINDS for k in kinds):
            raise JudgmentError(f"{where}: kinds: expected some of {', '.join(KINDS)}, got {list(kinds)}")
        expect_none = bool(entry.get("expect_none", False))
        rules: dict[int, list[dict[str, Any]]] = {}
        for level, value in (entry.get("grades") or {}).items():
            if level not in (1, 2, 3):
                raise JudgmentError(f"{where}: grades: {level!r} is not a grade (1, 2 or 3)")
            rules[level] = [_check_rule(r, f"{where} grade {level}", known) for r in _as_list(value)]
        if not rules and not expect_none:
            raise JudgmentError(f"{where}: grades: a query without judgments must say expect_none: true")
        query = Query(text, kinds, rules, expect_none, str(entry.get("note") or ""), line)
        query.grades = catalogue.grades(rules)
        queries.append(query)
    return queries
