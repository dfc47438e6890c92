"""Score ``extract_page`` against the hand-written ground truth of the shared corpus.

Scoring follows the corpus README: products are paired by normalised URL,
then sku/gtin, then name; each field then counts as TP/FP/FN with
alternatives, optional fields, ``equivalent_price_pairs`` and
``description_prefix``. Shops are scored the same way on their fields.

Run as a script for the table alone::

    .venv/bin/python -m tests.test_extraction_corpus
"""

from __future__ import annotations

import html
import re
import sys
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

try:
    from tests.corpus import corpus_available, html_documents, require_corpus, skip_reason
except ImportError:  # pytest "prepend" import mode puts tests/ itself on sys.path
    from corpus import corpus_available, html_documents, require_corpus, skip_reason

from crawler.extract import extract_page

PRODUCT_FIELDS = ("name", "price", "currency", "availability", "url", "image", "description", "brand", "sku", "gtin")
SHOP_FIELDS = ("name", "street", "locality", "postal_code", "lat", "lon", "opening_hours", "telephone")
# expected-field name -> our product dict key
EXPECTED_KEY = {"description": "description_prefix"}
SHOP_KEY = {"street": "address", "locality": "town", "postal_code": "postcode"}

# Floors at (or just under) what the extractor achieves today: a drop fails the suite.
PRODUCT_THRESHOLDS = {  # (precision, recall); achieved today in the comment
    "name": (0.97, 0.97),  # 0.982 / 0.982
    "price": (0.97, 0.97),  # 0.982 / 0.982
    "currency": (0.98, 0.98),  # 1.000 / 1.000
    "availability": (0.97, 0.97),  # 0.982 / 0.982
    "url": (0.98, 0.98),  # 1.000 / 1.000
    "image": (0.97, 0.95),  # 0.982 / 0.965
    "description": (0.97, 0.97),  # 1.000 / 1.000
    "brand": (0.95, 0.97),  # 0.971 / 1.000
    "sku": (0.97, 0.90),  # 1.000 / 0.911
    "gtin": (0.97, 0.80),  # 1.000 / 0.812 (Shopify-JSON-only barcodes are out of scope)
}
SHOP_THRESHOLDS = dict.fromkeys(SHOP_FIELDS, (0.95, 0.95))  # all 1.000 today
PRODUCT_COUNT_THRESHOLD = 0.97  # 60/60 today

_TRACKING = re.compile(r"^(utm_\w+|gclid|fbclid|srsltid|mc_\w+|ref|_ga)$", re.IGNORECASE)


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    products: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in PRODUCT_FIELDS})
    shops: dict[str, FieldScore] = field(default_factory=lambda: {f: FieldScore() for f in SHOP_FIELDS})
    documents: int = 0
    exact_count: int = 0
    mistakes: list[str] = field(default_factory=list)


# -- normalisation for comparison ------------------------------------------------


def norm_url(value) -> str | None:
    if not value:
        return None
    parts = urlsplit(html.unescape(str(value)).strip())
    host = parts.netloc.lower()
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return f"{host}{parts.path.rstrip('/') or '/'}" + (f"?{query}" if query else "")


def norm_text(value) -> str | None:
    if value is None:
        return None
    return " ".join(html.unescape(str(value)).casefold().split()) or None


def norm_gtin(value) -> str | None:
    if value is None:
        return None
    return str(value).strip().lstrip("0") or "0"


def to_decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


def equal(field_name: str, predicted, expected) -> bool:
    if predicted is None or expected is None:
        return False
    if field_name == "price":
        return to_decimal(predicted) == to_decimal(expected)
    if field_name in ("url", "image"):
        return norm_url(predicted) == norm_url(expected)
    if field_name in ("name", "brand"):
        return norm_text(predicted) == norm_text(expected)
    if field_name == "description":
        return (norm_text(predicted) or "").startswith(norm_text(expected) or "\0")
    if field_name == "gtin":
        return norm_gtin(predicted) == norm_gtin(expected)
    return str(predicted).strip() == str(expected).strip()


# -- product scoring -----------------------------------------------------------------


def _accepted(expected: dict, name: str) -> list:
    key = EXPECTED_KEY.get(name, name)
    main = expected.get(key)
    return ([main] if main is not None else []) + list((expected.get("alternatives") or {}).get(key, []))


def _pair(predicted: list[dict], expected: list[dict]) -> tuple[list[tuple[dict, dict]], list[dict], list[dict]]:
    pairs, free_pred, free_exp = [], list(predicted), list(expected)
    for keys in (("url",), ("sku", "gtin"), ("name",)):
        for exp in list(free_exp):
            for pred in free_pred:
                if any(pred.get(k) is not None and any(equal(k, pred[k], a) for a in _accepted(exp, k)) for k in keys):
                    pairs.append((pred, exp))
                    free_pred.remove(pred)
                    free_exp.remove(exp)
                    break
    return pairs, free_pred, free_exp


def _filled(name: str, value) -> bool:
    return value is not None and not (name == "availability" and value == "unknown")


def score_product(scores, predicted: dict | None, expected: dict | None, skip: set, doc: str, mistakes: list):
    equivalents = [(to_decimal(p), c) for p, c in (expected or {}).get("equivalent_price_pairs") or []]
    equivalent_hit = bool(
        predicted and expected and (to_decimal(predicted.get("price")), predicted.get("currency")) in equivalents
    )
    for name in PRODUCT_FIELDS:
        if name in skip:
            continue
        score = scores[name]
        value = predicted.get(name) if predicted else None
        if expected is None:
            if _filled(name, value):
                score.fp += 1
                mistakes.append(f"{doc}: {name}: unexpected product value {value!r}")
            continue
        main = expected.get(EXPECTED_KEY.get(name, name))
        accepted = _accepted(expected, name)
        correct = any(equal(name, value, a) for a in accepted) or (equivalent_hit and name in ("price", "currency"))
        if main is not None:
            if correct:
                score.tp += 1
            elif value is None or predicted is None:
                score.fn += 1
                mistakes.append(f"{doc}: {name}: missing, expected {main!r}")
            else:
                score.fp += 1
                score.fn += 1
                mistakes.append(f"{doc}: {name}: got {value!r}, expected {main!r}")
        elif value is not None and not correct and _filled(name, value):
            score.fp += 1
            mistakes.append(f"{doc}: {name}: got {value!r}, expected nothing")


# -- shop scoring ------------------------------------------------------------------------


def _expected_shop_value(shop: dict, name: str):
    if name in ("street", "locality", "postal_code"):
        return (shop.get("address") or {}).get(name)
    if name in ("lat", "lon"):
        return (shop.get("geo") or {}).get(name)
    return shop.get(name)


def shop_equal(name: str, predicted, expected) -> bool:
    if name in ("lat", "lon"):
        return round(float(predicted), 4) == round(float(expected), 4)
    if name == "opening_hours":
        return {" ".join(h.split()) for h in predicted} == {" ".join(h.split()) for h in expected}
    if name == "telephone":
        return re.sub(r"\D", "", str(predicted)) == re.sub(r"\D", "", str(expected))
    return norm_text(predicted) == norm_text(expected)


def score_shop(scores, predicted: dict | None, expected: dict | None, doc: str, mistakes: list):
    for name in SHOP_FIELDS:
        value = predicted.get(SHOP_KEY.get(name, name)) if predicted else None
        if value in ([], ""):
            value = None
        main = _expected_shop_value(expected, name) if expected else None
        score = scores[name]
        if main is not None and value is not None and shop_equal(name, value, main):
            score.tp += 1
        elif main is not None and value is None:
            score.fn += 1
            mistakes.append(f"{doc}: shop {name}: missing, expected {main!r}")
        elif main is not None:
            score.fp += 1
            score.fn += 1
            mistakes.append(f"{doc}: shop {name}: got {value!r}, expected {main!r}")
        elif value is not None:
            score.fp += 1
            mistakes.append(f"{doc}: shop {name}: got {value!r}, expected nothing")


# -- whole corpus --------------------------------------------------------------------------


def score_corpus() -> Report:
    report = Report()
    for document in html_documents():
        expected = document.expected
        result = extract_page(document.read_bytes(), document.url or "")
        skip = {"description" if f == "description_prefix" else f for f in expected.get("unannotated_fields") or []}
        pairs, extra, missing = _pair(result.products, expected["products"])
        for predicted, exp in pairs:
            score_product(report.products, predicted, exp, skip, document.name, report.mistakes)
        for predicted in extra:
            score_product(report.products, predicted, None, skip, document.name, report.mistakes)
        for exp in missing:
            score_product(report.products, None, exp, skip, document.name, report.mistakes)
        report.documents += 1
        if len(result.products) == len(expected["products"]):
            report.exact_count += 1
        else:
            report.mistakes.append(
                f"{document.name}: {len(result.products)} products, expected {len(expected['products'])}"
            )

        expected_shop = expected.get("shop")
        shops = list(result.shops)
        if expected_shop:
            match = next(
                (s for s in shops if norm_text(s["name"]) == norm_text(expected_shop["name"])),
                shops[0] if shops else None,
            )
            score_shop(report.shops, match, expected_shop, document.name, report.mistakes)
            if match is not None:
                shops.remove(match)
        for extra_shop in shops:
            score_shop(report.shops, extra_shop, None, document.name, report.mistakes)
    return report


def format_table(title: str, scores: dict[str, FieldScore]) -> str:
    lines = [title, f"{'field':<14}{'TP':>5}{'FP':>5}{'FN':>5}{'precision':>11}{'recall':>9}{'F1':>7}"]
    for name, s in scores.items():
        lines.append(f"{name:<14}{s.tp:>5}{s.fp:>5}{s.fn:>5}{s.precision:>11.3f}{s.recall:>9.3f}{s.f1:>7.3f}")
    return "\n".join(lines)


def format_report(report: Report, with_mistakes: bool = False) -> str:
    parts = [
        format_table(f"Products ({report.documents} documents)", report.products),
        f"exact product count: {report.exact_count}/{report.documents} = {report.exact_count / report.documents:.3f}",
        "",
        format_table("Shops", report.shops),
        "(shop country is not part of the shop dict, so it is not scored)",
    ]
    if with_mistakes and report.mistakes:
        parts += ["", "Mistakes:"] + [f"  {m}" for m in report.mistakes]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def report() -> Report:
    require_corpus()
    result = score_corpus()
    print("\n" + format_report(result, with_mistakes=True))
    return result


@pytest.mark.parametrize("field_name", PRODUCT_FIELDS)
def test_product_field_precision_and_recall_stay_above_floor(report, field_name):
    score = report.products[field_name]
    min_precision, min_recall = PRODUCT_THRESHOLDS[field_name]
    assert score.precision >= min_precision, f"{field_name} precision {score.precision:.3f} < {min_precision}"
    assert score.recall >= min_recall, f"{field_name} recall {score.recall:.3f} < {min_recall}"


@pytest.mark.parametrize("field_name", SHOP_FIELDS)
def test_shop_field_precision_and_recall_stay_above_floor(report, field_name):
    score = report.shops[field_name]
    min_precision, min_recall = SHOP_THRESHOLDS[field_name]
    assert score.precision >= min_precision, f"shop {field_name} precision {score.precision:.3f} < {min_precision}"
    assert score.recall >= min_recall, f"shop {field_name} recall {score.recall:.3f} < {min_recall}"


def test_pages_yield_the_expected_number_of_products(report):
    accuracy = report.exact_count / report.documents
    assert accuracy >= PRODUCT_COUNT_THRESHOLD, f"exact product count accuracy {accuracy:.3f}"


def main() -> int:
    if not corpus_available():
        print(skip_reason())
        return 0
    print(format_report(score_corpus(), with_mistakes="-v" in sys.argv))
    return 0


if __name__ == "__main__":
    sys.exit(main())
