"""Ranking metrics over graded judgments (0-3): NDCG@k and the reciprocal rank.

Gains are exponential (``2**grade - 1``), so one grade-3 product outweighs three grade-1
ones; the ideal ranking is every judged product sorted by grade, so a search that finds
only some of the grade-3 products is marked down even if what it shows is perfect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

RELEVANT = 2  # the grade from which a product answers the query (MRR, zero-result rate)


def dcg(grades: Sequence[int], k: int) -> float:
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades[:k]))


def ndcg(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    """NDCG@k of ``ranked`` ids; products without a judgment count 0. 0.0 when nothing is
    relevant at all (such a query has no ideal ranking to reach)."""
    ideal = dcg(sorted(judgments.values(), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(i, 0) for i in ranked], k) / ideal


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int], threshold: int = RELEVANT) -> float:
    """1/rank of the first result graded ``threshold`` or more, 0.0 when none is."""
    for rank, product in enumerate(ranked, start=1):
        if judgments.get(product, 0) >= threshold:
            return 1.0 / rank
    return 0.0
