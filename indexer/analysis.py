"""The French text analysis shared by indexing and querying.

tantivy does not store custom analyzers in the index: every process that opens the index
(loader, portal, CLI) must call :func:`register_analyzers` before searching or writing,
otherwise queries on analysed fields silently match nothing.

Order matters (measured on tantivy 0.27, see ARCHITECTURE.md):

* ASCII folding runs *before* the stemmer, so ``poupée`` and ``poupee`` stem alike;
* stop words run *after* folding, on both sides, so the document and the query agree:
  ``à`` folds to ``a``, which tantivy's French list does not hold, hence the few folded
  extras below (otherwise "bougie a la vanille" would not match "bougie à la vanille"
  under AND semantics while the accented form was dropped from the index).
"""

from __future__ import annotations

from functools import lru_cache

from tantivy import Filter, Index, TextAnalyzer, TextAnalyzerBuilder, Tokenizer

# Analyzer names as written in the schema.
FRENCH = "fr_stem"  # name, description, brand, category: what searches match
FOLDED = "fr_fold"  # name words for as-you-type suggestions: no stemming, no stop words

MAX_TOKEN_LENGTH = 40

# Folded forms of accented entries of tantivy's French stop list, which folding would
# otherwise let through. Words that carry meaning in a shop ("été", "son") stay searchable.
FOLDED_STOP_WORDS: tuple[str, ...] = (
    "a", "meme", "etes", "etant", "etee", "etees", "eumes", "eutes", "fumes", "futes",
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


@lru_cache(maxsize=None)
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
    return analyzer(name).analyze(text)


def fold(text: str) -> str:
    """Lowercase and strip accents, keeping word boundaries: for comparing names."""
    return " ".join(analyze(text, FOLDED))
