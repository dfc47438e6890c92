"""Where the shared ground-truth corpus lives, and how to read it.

The corpus (``../shared/corpus`` next to the repository, or
``$EMPLETTES_CORPUS``) is never copied into the repository; tests that need it
skip with a clear reason when it is absent.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("EMPLETTES_CORPUS", REPO.parent / "shared" / "corpus"))
HTML_KINDS = ("html", "spec-example")


def corpus_available() -> bool:
    return (CORPUS / "html").is_dir()


def skip_reason() -> str:
    return f"shared corpus not found at {CORPUS} (set EMPLETTES_CORPUS)"


def require_corpus() -> None:
    """Skip the calling test when the corpus is not there."""
    if not corpus_available():
        import pytest

        pytest.skip(skip_reason())


@dataclass(frozen=True)
class Document:
    name: str
    path: Path
    expected: dict

    @property
    def url(self) -> str | None:
        return self.expected.get("source_url")

    def read_bytes(self) -> bytes:
        data = self.path.read_bytes()
        return gzip.decompress(data) if self.path.suffix == ".gz" else data


def html_documents(kinds: tuple[str, ...] = HTML_KINDS) -> list[Document]:
    """Every HTML document with its ``expected.json``, sorted by name."""
    documents = []
    for expected_path in sorted((CORPUS / "html").glob("*.expected.json")):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        if expected.get("kind") not in kinds:
            continue
        path = CORPUS / expected["document"]
        if path.exists():
            documents.append(Document(expected_path.name.removesuffix(".expected.json"), path, expected))
    return documents


def price_cases() -> list[dict]:
    """Rows of ``prices/price-strings.json`` (see its ``fields`` for the format)."""
    data = json.loads((CORPUS / "prices" / "price-strings.json").read_text(encoding="utf-8"))
    return data["cases"]
