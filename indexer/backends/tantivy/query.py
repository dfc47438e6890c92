"""Query building: a resident's words, filters and price range as engine queries.

Text is scored with the constants of :mod:`indexer.backends.base` (``const_score`` and
``disjunction_max`` queries), not BM25, so both backends rank alike; the query words are
planned once in :func:`indexer.analysis.plan_words` (synonyms, plurals, typos). The top
tier (:meth:`Queries._top_tier`) is written beside the scoring it must agree with
(:meth:`Queries._with_bonus`): its filter matches exactly the documents of the best score.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from indexer.analysis import Clause, analyze, typos_on_stems, word_forms
from indexer.backends.base import (
    AVAILABILITY_BONUS,
    FUZZY_FACTORS,
    HEAD_BONUS,
    PHRASE_BONUS,
    SYNONYM_FACTOR,
    SearchQuery,
)
from indexer.backends.tantivy.cells import decimal_cover
from indexer.backends.tantivy.schema import PRICE_CELL, TEXT_FIELDS
from indexer.backends.tantivy.storage import Storage


class _Products:
    """The type of :data:`PRODUCTS`."""

    def __repr__(self) -> str:
        return "PRODUCTS"


PRODUCTS: Any = _Products()
Word = (
    str | tuple[int, str]
)  # a phrase query's word (with its position, or not)  # a part of Queries._and(): "products only, not shops"


@dataclass
class Match:
    """A search as engine queries, in the text mode that found matches (see searching)."""

    clauses: list[Clause]
    mode: str | None  # "strict", "fuzzy", "relaxed" (words dropped); None without words
    text: Query | None  # the words alone (what relevance scores)
    base: list[Query]  # price, words and circle, or the product term
    filters: dict[str, Query] = dataclass_field(default_factory=dict)  # facet and shop filters
    product: Any = None  # PRODUCTS when the shop documents must be kept out
    full: Query | None = None  # every part: the matches
    rest: Query | None = None  # full without the circle (geo searches)
    plain: bool = False  # no words, price or place: the product term alone
    counted: int | None = None  # the total, when the facet pass counted it
    dropped: list[Clause] = dataclass_field(default_factory=list)  # words that blocked (mode "relaxed")

    def parts(self) -> list[Query]:
        """``base`` and the filters: what ``full`` intersects."""
        return self.base + list(self.filters.values())


class Queries(Storage):
    """Engine queries built against this index's schema and term counts."""

    def _term(self, field: str, value: Any) -> Query:
        return Query.term_query(self.schema, field, value)

    def _terms(self, field: str, values: Iterable[Any]) -> Query:
        values = list(dict.fromkeys(values))
        if len(values) == 1:
            return self._term(field, values[0])
        return Query.term_set_query(self.schema, field, values)

    def _and(self, parts: list[Any]) -> Query:
        """Every part; :data:`PRODUCTS` among them keeps the products only, as the
        exclusion of the few shop documents: intersecting with the million postings of
        ``type:product`` costs more than the words themselves."""
        positive = [part for part in parts if part is not PRODUCTS]
        if len(positive) < len(parts):
            if not positive:  # every product: the product term is the cheapest list
                return self._term("type", "product")
            return Query.boolean_query(
                [(Occur.Must, part) for part in positive] + [(Occur.MustNot, self._term("type", "shop"))]
            )
        if not parts:
            return Query.all_query()
        if len(parts) == 1:
            return parts[0]
        return Query.boolean_query([(Occur.Must, part) for part in parts])

    @staticmethod
    def _any(queries: list[Query]) -> Query:
        return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Should, q) for q in queries])

    @staticmethod
    def _unscored(query: Query) -> Query:
        return Query.const_score_query(query, 0.0)

    def _doc_freq(self, searcher: tantivy.Searcher, field: str, term: Any) -> int:
        """Documents holding ``term`` in ``field`` (deleted ones included), per generation."""
        known = self._cache.doc_freqs(self._reloaded_generation())
        found = known.get((field, term))
        if found is None:
            found = known[(field, term)] = searcher.doc_freq(field, term)
        return found

    def _field_options(
        self, field: str, clause: Clause, weight: float, fuzzy: bool, searcher: tantivy.Searcher | None = None
    ) -> list[tuple[float, Query]]:
        """(score, filter) of each way the clause can match in one field: its words
        (``weight``), a synonym (less), a typo (less still). With ``searcher``, only the
        words the index holds (an unknown word matches nothing)."""
        options = []
        for phrases, factor in ((clause.forms, 1.0), (clause.synonyms, SYNONYM_FACTOR)):
            exact = []
            # "bougie" and "bougies" share their stem: one term query for both (same matches,
            # same constant score, half the postings to merge).
            for stems in dict.fromkeys(tuple(dict.fromkeys(analyze(" ".join(phrase)))) for phrase in phrases):
                if not stems or (searcher is not None and not all(self._doc_freq(searcher, field, t) for t in stems)):
                    continue
                if len(stems) == 1:
                    exact.append(self._term(field, stems[0]))
                else:
                    exact.append(Query.boolean_query([(Occur.Must, self._term(field, t)) for t in stems]))
            if exact:
                options.append((weight * factor, self._any(exact)))
        for distance in range(1, clause.fuzzy + 1) if fuzzy else ():
            typos = [
                Query.fuzzy_term_query(self.schema, field, stem, distance=distance)
                for stem in (analyze(clause.words[0])[:1] if typos_on_stems(clause.words[0]) else [])
            ]
            if field == "name":  # whole words too: "bougei" is one swap from "bougie", not from "boug"
                typos += [
                    Query.fuzzy_term_query(self.schema, "name_words", form, distance=distance)
                    for form in word_forms(clause.words[0])  # and "bougeis" from "bougies"
                ]
            if typos:
                options.append((weight * FUZZY_FACTORS[distance], self._any(typos)))
        return options

    def _field_match(
        self, field: str, clause: Clause, weight: float, fuzzy: bool, searcher: tantivy.Searcher | None = None
    ) -> Query | None:
        """The clause in one field, scored ``weight`` (less for a synonym or a typo); None
        when the index holds none of its words there (with ``searcher``)."""
        options = [
            Query.const_score_query(q, score)
            for score, q in self._field_options(field, clause, weight, fuzzy, searcher)
        ]
        if not options:
            return None
        return options[0] if len(options) == 1 else Query.disjunction_max_query(options)

    def _text_query(self, clauses: list[Clause], mode: str, searcher: tantivy.Searcher | None = None) -> Query | None:
        """``mode``: "strict" (every clause, exact), "fuzzy" or "relaxed" (every clause,
        typos forgiven in words of 5+ letters: "relaxed" has had its blocking words dropped).
        With ``searcher``, the fields that hold none of a clause's words are left out: six
        fields searched cost more than the two or three a word is usually in."""
        if not clauses:
            return None
        fuzzy = mode != "strict"
        per_clause = []
        for clause in clauses:
            fields = [self._field_match(f, clause, weight, fuzzy, searcher) for f, weight in TEXT_FIELDS.items()]
            found = [q for q in fields if q is not None]
            if not found:
                per_clause.append(Query.empty_query())
            else:
                per_clause.append(found[0] if len(found) == 1 else Query.disjunction_max_query(found))
        return per_clause[0] if len(per_clause) == 1 else Query.boolean_query([(Occur.Must, q) for q in per_clause])

    def _availability(self, searcher: tantivy.Searcher, generation) -> tuple[list[tuple[str, float]], tuple] | None:
        """(the availability bonus minus its maximum per value present, the values
        present): ``None`` unless every product carries a value (and the index is known
        to be at ``generation``).

        Adding the same constant to every score leaves the ranking unchanged (the bonuses
        are small dyadic numbers, so the sums stay exact), and the clauses then cover the
        products not in stock instead of the two thirds in stock: a cheaper union.
        """
        if not generation or generation != self._generation():
            return None
        kept = self._cache.of(generation)
        if "availability" in kept:
            return kept["availability"]
        agg = searcher.aggregate(
            self._term("type", "product"),
            {
                "a": {"terms": {"field": "availability", "size": 65_000, "segment_size": 65_000}},
                "n": {"value_count": {"field": "key"}},
            },
        )
        counts = {bucket["key"]: bucket["doc_count"] for bucket in agg["a"]["buckets"]}
        found = None
        if sum(counts.values()) == int(agg["n"]["value"] or 0):
            top = max((AVAILABILITY_BONUS.get(value, 0.0) for value in counts), default=0.0)
            shift = [
                (value, AVAILABILITY_BONUS.get(value, 0.0) - top)
                for value in sorted(counts)
                if AVAILABILITY_BONUS.get(value, 0.0) != top
            ]
            found = (shift, tuple(sorted(counts)))
        kept["availability"] = found
        return found

    def _with_bonus(
        self, core: Query, clauses: list[Clause], shift: list[tuple[str, float]] | None = None, seek: bool = False
    ) -> Query:
        """The text query as scored for relevance: availability, phrase and head bonuses.
        Only the ranked search pays for them; counts and facets use the core alone.

        ``seek`` (for a few tens of thousands of matches at most): each availability bonus
        gets its own level, so the engine seeks its postings once per match instead of
        scanning a union of a third of the index. The scores are the same sums (small
        dyadic numbers add exactly in f32), so the same hits come in the same order.
        """
        if seek and shift:
            query = self._with_bonus(core, clauses, [])
            for value, score in shift:
                query = Query.boolean_query(
                    [
                        (Occur.Must, query),
                        (Occur.Should, Query.const_score_query(self._term("availability", value), score)),
                    ]
                )
            return query
        bonus = [
            Query.const_score_query(self._term("availability", value), score)
            for value, score in (AVAILABILITY_BONUS.items() if shift is None else shift)
        ]
        words = [w for clause in clauses for w in clause.words]
        stems: list[Word] = [stem for w in words for stem in analyze(w)]
        if len(stems) > 1:
            bonus.append(Query.const_score_query(Query.phrase_query(self.schema, "name", stems, slop=1), PHRASE_BONUS))
        heads = list(dict.fromkeys(stem for clause in clauses for stem in clause.stems()))
        if heads:
            bonus.append(Query.const_score_query(self._terms("name_head", heads), HEAD_BONUS))
        return Query.boolean_query([(Occur.Must, core)] + [(Occur.Should, q) for q in bonus])

    def _top_tier(
        self, searcher: tantivy.Searcher, query: SearchQuery, clauses: list[Clause], mode: str, present: tuple | None
    ) -> list[Query] | None:
        """Filters matching exactly the documents with the highest score ``_with_bonus``
        can give: each clause in its best field the index holds the words in, the head
        and phrase bonuses when the index holds their words, the best availability of
        those allowed. Every other document scores strictly less (the scores are sums
        of independent parts, each below its best), so when this tier fills the page,
        its documents of the smallest keys are the page: the order the engine gives
        (score, then key) without scoring every match. None: no such filter (a clause
        matches nowhere)."""
        fuzzy = mode != "strict"
        parts = []
        for clause in clauses:
            best, tops = 0.0, []
            for field, weight in TEXT_FIELDS.items():
                for score, option in self._field_options(field, clause, weight, fuzzy, searcher):
                    if score > best:
                        best, tops = score, [option]
                    elif score == best:
                        tops.append(option)
            if not tops:
                return None
            parts.append(self._any(tops))
        if not parts:
            return None
        heads = [
            h for h in dict.fromkeys(s for c in clauses for s in c.stems()) if self._doc_freq(searcher, "name_head", h)
        ]
        if heads:
            parts.append(self._terms("name_head", heads))
        stems: list[Word] = [stem for clause in clauses for w in clause.words for stem in analyze(w)]
        if len(stems) > 1 and all(self._doc_freq(searcher, "name", stem) for stem in stems):
            parts.append(Query.phrase_query(self.schema, "name", stems, slop=1))
        # The availability values a match can have: those ticked, else those in the index
        # when every product has one (``present``), else any (no value scores 0).
        values = query.filters.get("availability") or present
        bonus = {value: AVAILABILITY_BONUS.get(value, 0.0) for value in values or AVAILABILITY_BONUS}
        top = max(bonus.values())
        if not values or min(bonus.values()) < top:
            parts.append(self._terms("availability", [value for value, b in bonus.items() if b == top]))
        return parts

    def _price_query(self, query: SearchQuery, as_cells: bool = True) -> Query | None:
        """The price filter: as price cells (``as_cells``) when the range is what selects the
        products (no words, no place): a few terms read less than the whole column; else
        as the exact range on the column, which the engine then reads only at the words'
        matches (there a union of cells reads more)."""
        if query.price_min is None and query.price_max is None:
            return None
        low = None if query.price_min is None else float(query.price_min)
        high = None if query.price_max is None else float(query.price_max)
        exact = Query.range_query(self.schema, "price", FieldType.Float, low, high)
        cover = decimal_cover(low, high) if as_cells else None
        if cover is None:
            return exact
        cells, partial = cover
        # A union of term queries, not a term set: a term set first lists every product of
        # its terms, which makes "bougie under 20 EUR" read half the index; a union is only
        # advanced to the words' matches.
        parts = [self._term(PRICE_CELL, cell) for cell in cells]
        if partial:  # the engine checks the column for these products only
            parts.append(self._and([self._any([self._term(PRICE_CELL, cell) for cell in partial]), exact]))
        if not parts:
            return Query.empty_query()
        return self._any(parts)
