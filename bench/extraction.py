"""Time extraction over every HTML page of the shared corpus.

Prints per-page mean / median milliseconds for
  (a) bare lxml parsing,
  (b) extruct.extract with every syntax (uniform=True),
  (c) extruct with RDFa only,
  (d) crawler.extract.extract_page,
and the ratio d/a (the target is d within 2x of a).

    .venv/bin/python bench/extraction.py [--repeat N]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import extruct
import lxml.html

from crawler.extract import extract_page
from tests.corpus import corpus_available, html_documents, skip_reason

ALL_SYNTAXES = list(extruct.SYNTAXES)


def best_of(function, repeat: int) -> float:
    """Fastest of ``repeat`` runs in ms: the least noisy estimate of the cost."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per page and method (best is kept)")
    args = parser.parse_args()
    if not corpus_available():
        print(skip_reason())
        return 0
    warnings.simplefilter("ignore")
    pages = [(doc.read_bytes(), doc.url or "") for doc in html_documents()]
    methods = {
        "a  lxml parse": lambda html, url: lxml.html.fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8")),
        "b  extruct all syntaxes": lambda html, url: extruct.extract(
            html, base_url=url or None, syntaxes=ALL_SYNTAXES, uniform=True, errors="log"
        ),
        "c  extruct rdfa only": lambda html, url: extruct.extract(
            html, base_url=url or None, syntaxes=["rdfa"], errors="log"
        ),
        "d  extract_page": extract_page,
    }
    timings: dict[str, list[float]] = {name: [] for name in methods}
    for html, url in pages:
        for name, method in methods.items():
            timings[name].append(best_of(functools.partial(method, html, url), args.repeat))
    print(f"{len(pages)} corpus pages, best of {args.repeat} runs each")
    print(f"{'method':<26}{'mean ms':>10}{'median ms':>11}{'max ms':>9}")
    for name, values in timings.items():
        print(f"{name:<26}{statistics.mean(values):>10.2f}{statistics.median(values):>11.2f}{max(values):>9.2f}")
    a, d = timings["a  lxml parse"], timings["d  extract_page"]
    print(
        f"ratio d/a: mean {statistics.mean(d) / statistics.mean(a):.2f}, "
        f"median {statistics.median(d) / statistics.median(a):.2f} (target <= 2)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
