"""Run files as the crawler writes them, for the loading and reindexing tests: records of
one candle shop (``cire-meche``), the manifest beside each run, and ``write_run``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from indexer.records import ProductRecord, ShopRecord

SOURCE = "cire-meche"
RUN1, RUN2, RUN3 = "20261101T080000Z-aaaa", "20261102T080000Z-bbbb", "20261103T080000Z-cccc"


def product(n: int, run_id: str = "", source_id: str = SOURCE, **changes: Any) -> dict[str, Any]:
    data = dict(
        id=f"{source_id}-{n}",
        source_id=source_id,
        run_id=run_id,
        shop_id=f"{source_id}-shop",
        shop_name="Atelier Cire & Mèche",
        town="Mayenne",
        lat=48.3031,
        lon=-0.6136,
        name=f"Bougie parfumée n°{n}",
        price="12.50",
        url=f"https://cire.example.fr/p/{n}",
        first_seen="2026-11-01T08:00:00Z",
        last_seen="2026-11-01T08:00:00Z",
    )
    data.update(changes)
    return ProductRecord(**data).model_dump(mode="json")


def shop(source_id: str = SOURCE) -> dict[str, Any]:
    return ShopRecord(
        id=f"{source_id}-shop", source_id=source_id, name="Atelier Cire & Mèche", town="Mayenne"
    ).model_dump(mode="json")


def manifest(run_id: str, source_id: str = SOURCE, **changes: Any) -> dict[str, Any]:
    data = dict(
        source_id=source_id,
        run_id=run_id,
        started_at="2026-11-01T08:00:00Z",
        finished_at="2026-11-01T08:10:00Z",
        finish_reason="finished",
        pages=40,
        page_errors=0,
        items=10,
        item_errors=0,
    )
    data.update(changes)
    return data


def write_run(
    runs_dir: Path,
    run_id: str,
    lines: list,
    *,
    source_id: str = SOURCE,
    sidecar: dict | bool | None = True,
    tail: str = "",
) -> Path:
    directory = runs_dir / source_id
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{run_id}.jsonl"
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    path.write_text(text + tail, encoding="utf-8")
    if sidecar is True:
        sidecar = manifest(run_id, source_id)
    if sidecar:
        (directory / f"{run_id}.json").write_text(json.dumps(sidecar), encoding="utf-8")
    return path
