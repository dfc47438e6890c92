"""The French text analysis shared by indexing and querying.

tantivy does not store custom analyzers in the index: every process that opens the index
(loader, portal, CLI) must call :func:`register_analyzers` before searching or writing,
otherwise queries on analysed fields silently match nothing.

Order matters (tantivy 0.27; docs/search.md, "Analysis"):

* ASCII folding runs *before* the stemmer, so ``poupée`` and ``poupee`` stem alike;
* stop words run *after* folding, on both sides, so the document and the query agree:
  ``à`` folds to ``a``, which tantivy's French list does not hold, hence the few folded
  extras below (otherwise "bougie a la vanille" would not match "bougie à la vanille"
  under AND semantics while the accented form was dropped from the index).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache, lru_cache

from tantivy import Filter, Index, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

# Analyzer names as written in the schema.
FRENCH = "fr_stem"  # name, description, brand, category: what searches match
FOLDED = "fr_fold"  # name words for as-you-type suggestions: no stemming, no stop words

MAX_TOKEN_LENGTH = 40
_NAME_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # tantivy's simple tokenizer: runs of letters and digits

# Folded forms of accented entries of tantivy's French stop list, which folding would
# otherwise let through. Words that carry meaning in a shop ("été", "son") stay searchable.
FOLDED_STOP_WORDS: tuple[str, ...] = (
    "a",
    "meme",
    "etes",
    "etant",
    "etee",
    "etees",
    "eumes",
    "eutes",
    "fumes",
    "futes",
)


def _french() -> TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(MAX_TOKEN_LENGTH))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .filter(Filter.stopword("french"))
        .filter(Filter.custom_stopword(list(FOLDED_STOP_WORDS)))
        .filter(Filter.stemmer("french"))
        .build()
    )


def _folded() -> TextAnalyzer:
    return (
        TextAnalyzerBuilder(Tokenizer.simple())
        .filter(Filter.remove_long(MAX_TOKEN_LENGTH))
        .filter(Filter.lowercase())
        .filter(Filter.ascii_fold())
        .build()
    )


@cache
def analyzer(name: str) -> TextAnalyzer:
    if name == FRENCH:
        return _french()
    if name == FOLDED:
        return _folded()
    raise KeyError(f"unknown analyzer {name!r}")


def register_analyzers(index: Index) -> None:
    """Register the custom analyzers on an index object (needed in every process)."""
    index.register_tokenizer(FRENCH, analyzer(FRENCH))
    index.register_tokenizer(FOLDED, analyzer(FOLDED))


def analyze(text: str, name: str = FRENCH) -> list[str]:
    """Tokens of ``text`` as the index sees them: ``"Théières"`` -> ``["theier"]``."""
    if not text:
        return []
    if len(text) <= 40:  # words and short phrases: queries and highlights repeat them
        return list(_analyze_short(text, name))
    return analyzer(name).analyze(text)


@lru_cache(maxsize=50_000)
def _analyze_short(text: str, name: str) -> tuple[str, ...]:
    return tuple(analyzer(name).analyze(text))


def name_head(name: str) -> str | None:
    """The stem of a name's first meaningful word: usually what the product *is* in French
    ("Casque vélo enfant" is a casque). Computed here for both backends."""
    for word in _NAME_WORD.findall(name[:200])[:6]:
        stems = _word_stems(word.lower())
        if stems:
            return stems[0]
    return None


@lru_cache(maxsize=100_000)  # first words of names repeat a lot: indexing calls this per product
def _word_stems(word: str) -> tuple[str, ...]:
    return tuple(analyze(word))


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping word boundaries: for comparing names."""
    return " ".join(analyze(text, FOLDED))


# ---------------------------------------------------------------------------- query words
#
# What both backends do with a resident's words before asking their engine: synonyms from
# the shared file, the plurals the stemmers miss, and which words may carry a typo. Each
# backend then analyses these *words* with its own analyzer, so the rules live here once.

import os  # noqa: E402
import re  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

SYNONYMS_FILE = Path(__file__).with_name("synonyms_fr.txt")
FUZZY_MIN_LENGTH = 5  # words shorter than this must be spelt right
FUZZY_TWO_EDITS_LENGTH = 8  # from this length two edits are forgiven (Elasticsearch's AUTO:5,8)
FUZZY_STEMS_LENGTH = 6  # from this length typos are also forgiven against stems, in every field


def synonyms_path() -> Path:
    return Path(os.environ.get("SYNONYMS_FILE") or SYNONYMS_FILE)


def read_synonym_lines(path: Path | None = None) -> list[str]:
    """The rules of a synonyms file (Solr format, comma-separated groups), comments dropped."""
    path = Path(path or synonyms_path())
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@lru_cache(maxsize=8)
def _synonym_groups(path: str, mtime: float) -> tuple[tuple[tuple[str, ...], ...], ...]:
    groups = []
    for line in read_synonym_lines(Path(path)):
        phrases = []
        for phrase in line.split(","):
            words = tuple(w for w in analyze(phrase, FOLDED) if analyze(w, FRENCH))
            if words and words not in phrases:
                phrases.append(words)
        if len(phrases) > 1:
            groups.append(tuple(phrases))
    return tuple(groups)


def synonym_groups(path: Path | None = None) -> tuple[tuple[tuple[str, ...], ...], ...]:
    """Groups of equivalent phrases, each phrase as folded words without stop words.
    Re-read when the file changes, so a chamber's edit applies without a restart."""
    path = Path(path or synonyms_path())
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return ()
    return _synonym_groups(str(path), mtime)


def word_forms(word: str) -> tuple[str, ...]:
    """The word and its likely singular/plural: French plurals in -x and -aux, and the
    final -s the stemmer keeps after accents are folded (``velos``)."""
    forms = [word]
    if len(word) > 3 and word[-1] in "sx":
        forms.append(word[:-1])
        if word.endswith("aux"):
            forms += [word[:-3] + "al", word[:-3] + "ail"]
    elif len(word) > 1:
        forms.append(word + "s")
        if word.endswith(("au", "eu", "ou")):
            forms.append(word + "x")
        elif word.endswith("al"):
            forms.append(word[:-2] + "aux")
        elif word.endswith("ail"):
            forms.append(word[:-3] + "aux")
    return tuple(dict.fromkeys(forms))


def correction_edits(word: str) -> int:
    """Edits a spelling correction may make to a word the index does not know (folded):
    none under 3 letters, one to 5, two from 6 (Elasticsearch's ``AUTO``). A correction is
    offered, not applied, so it may reach a little further than :func:`fuzzy_edits`
    ("bojgiie" -> "bougie"), but never turns a short word into another word ("savon" is
    two edits from "saison")."""
    if len(word) < 3 or not word.isalpha():
        return 0
    return 1 if len(word) < 6 else 2


def typos_on_stems(word: str) -> bool:
    """Whether a typo in ``word`` may be forgiven against the stems of every field, or only
    against the whole words of names: only when its stem has FUZZY_STEMS_LENGTH letters. A
    short stem is too close to others: "savon" and "savons" stem to "savon", one edit from
    "savoi", the stem of "Savoie", but two from the word; "miell" stays one from "miel"."""
    stems = analyze(word)
    return bool(stems) and len(stems[0]) >= FUZZY_STEMS_LENGTH


def fuzzy_edits(word: str) -> int:
    """Typos forgiven in a word: none under 5 letters, one to 7, two from 8."""
    if len(word) < FUZZY_MIN_LENGTH or not word.isalpha():
        return 0
    return 1 if len(word) < FUZZY_TWO_EDITS_LENGTH else 2


@dataclass(frozen=True)
class Clause:
    """One thing the resident asked for: the words typed, and equivalent phrases (each a
    tuple of folded words) any of which satisfies it."""

    words: tuple[str, ...]
    alternatives: tuple[tuple[str, ...], ...]
    fuzzy: int = 0  # edits forgiven (single words only)
    synonyms: tuple[tuple[str, ...], ...] = ()  # alternatives from the synonyms file (score a bit less)

    @property
    def forms(self) -> tuple[tuple[str, ...], ...]:
        """The alternatives that are the typed words themselves (or their plural/singular)."""
        return tuple(a for a in self.alternatives if a not in self.synonyms)

    def stems(self) -> list[str]:
        """Stems of every single-word alternative (for the name's head word)."""
        return list(dict.fromkeys(s for a in self.alternatives if len(a) == 1 for s in analyze(a[0])))


def plan_words(text: str) -> list[Clause]:
    """The clauses of a query: folded words minus stop words, synonym phrases joined
    (longest first), each word with its singular/plural forms."""
    words = [w for w in analyze(text, FOLDED) if analyze(w, FRENCH)]
    groups = synonym_groups()
    by_first: dict[str, list[tuple[tuple[str, ...], tuple]]] = {}
    for group in groups:
        for phrase in group:
            by_first.setdefault(phrase[0], []).append((phrase, group))
    clauses: list[Clause] = []
    i = 0
    while i < len(words):
        best = None
        for phrase, group in by_first.get(words[i], ()):
            longer = best is None or len(phrase) > len(best[0])
            if len(phrase) > 1 and tuple(words[i : i + len(phrase)]) == phrase and longer:
                best = (phrase, group)
        if best is not None:
            phrase, group = best
            clauses.append(Clause(phrase, tuple(group), synonyms=tuple(p for p in group if p != phrase)))
            i += len(phrase)
            continue
        word = words[i]
        own = [(form,) for form in word_forms(word)]
        synonyms: list[tuple[str, ...]] = []
        for form in word_forms(word):
            for phrase, group in by_first.get(form, ()):
                if phrase == (form,):
                    synonyms += [p for p in group if p not in own and p not in synonyms]
        clauses.append(Clause((word,), tuple(own + synonyms), fuzzy_edits(word), tuple(synonyms)))
        i += 1
    unique: dict[tuple, Clause] = {}
    for clause in clauses:
        unique.setdefault(clause.alternatives, clause)
    return list(unique.values())


def relax_clauses(clauses: Sequence[Clause], count: Callable[[list[Clause]], int]) -> tuple[list[Clause], list[Clause]]:
    """Every word counts; when no product matches all of them (typos forgiven), the words
    that block: ``(kept, dropped)``. ``count(subset)`` is the backend's number of matches
    of a subset of the clauses, typos forgiven, with the search's filters and place.

    A clause that matches nothing on its own is dropped first ("jouet en bois" where no
    product is a "jouet": the results are those for "bois"); then, while the rest still
    match nothing together, the clause whose removal leaves the most matches (the later
    one on a tie: French names what a thing is first, "bougie parfumée"). One rule for
    both backends, so they drop the same words.
    ``kept`` is empty when no clause matches anything."""
    kept = [clause for clause in clauses if count([clause])]
    if len(kept) > 1 and not count(kept):
        while len(kept) > 1:
            best, drop = max((count(kept[:i] + kept[i + 1 :]), i) for i in range(len(kept)))
            kept = kept[:drop] + kept[drop + 1 :]
            if best:
                break
    return kept, [clause for clause in clauses if clause not in kept]


def clauses_text(clauses: Sequence[Clause]) -> str:
    """The words of ``clauses`` as typed (folded), for "voici les résultats pour « bois »"."""
    return " ".join(word for clause in clauses for word in clause.words)


_WORD = re.compile(r"\w+", re.UNICODE)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap costs one), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=1_024)  # the same for every hit of a search
def _highlight_terms(clauses: tuple[Clause, ...], fuzzy: bool) -> tuple[frozenset[str], tuple[tuple[str, int], ...]]:
    """(the stems a matched word has, (form, edits) of the typos a matched word may be)."""
    stems = frozenset(
        stem for clause in clauses for phrase in clause.alternatives for w in phrase for stem in analyze(w)
    )
    typos = tuple(
        (form, clause.fuzzy)
        for clause in clauses
        if fuzzy and clause.fuzzy
        for form in [clause.words[0], *analyze(clause.words[0])]
    )
    return stems, typos


@lru_cache(maxsize=65_536)  # the names of a page share words, and searches their terms
def _word_matches(word: str, stems: frozenset[str], typos: tuple[tuple[str, int], ...]) -> bool:
    word_stems = analyze(word)
    if not word_stems:
        return False
    if all(stem in stems for stem in word_stems):
        return True
    forms = [fold(word), *word_stems] if typos else []
    return any(edit_distance(form, typo, edits) <= edits for typo, edits in typos for form in forms)


def highlight_segments(text: str, clauses: Sequence[Clause], fuzzy: bool = False) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, matched) segments: a word is matched when it stems like
    one of the query's words or their alternatives (or, when the search forgave typos,
    within the same number of edits). Plain strings, never markup: the template escapes
    each piece and wraps matched ones in <mark>."""
    if not text:
        return []
    stems, typos = _highlight_terms(tuple(clauses), fuzzy)
    if not stems and not typos:
        return [(text, False)]
    segments: list[tuple[str, bool]] = []
    position = 0
    for match in _WORD.finditer(text):
        if _word_matches(match.group(), stems, typos):
            if match.start() > position:
                segments.append((text[position : match.start()], False))
            segments.append((match.group(), True))
            position = match.end()
    if position < len(text):
        segments.append((text[position:], False))
    # Join neighbours of the same kind: "Bougie parfumée" stays one <mark> when both match.
    merged: list[tuple[str, bool]] = []
    for piece, matched in segments:
        if merged and merged[-1][1] == matched:
            merged[-1] = (merged[-1][0] + piece, matched)
        else:
            merged.append((piece, matched))
    return merged


# "jouets en bois près de Tours": a place at the end of the query.
PLACE_PATTERN = re.compile(
    r"^(?P<text>.*?)\s*\b(?:pres|près|proche|autour|aux alentours)\s+"
    r"(?:de\s+|d['’]\s*|du\s+|des\s+)?(?P<place>[^,]+?)\s*$",
    re.IGNORECASE | re.UNICODE,
)


def split_place(text: str) -> tuple[str, str | None]:
    """``("jouets en bois", "tours")`` for ``"jouets en bois près de Tours"``; the caller
    decides whether the place is a known town."""
    match = PLACE_PATTERN.match(text or "")
    if not match or not match.group("place").strip():
        return text, None
    return match.group("text"), match.group("place").strip()
