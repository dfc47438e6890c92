"""Recrawls that skip what has not changed: sitemap ``lastmod`` against the last good run.

A page whose sitemap entry says it was last modified before the previous run started is
not fetched again; the records that run read on it are carried into the new run (new
``run_id`` and ``last_seen``, same ``first_seen``), so the index keeps them when the new
run replaces the old one. Only the last run that finished well is trusted, only records
whose URL is the sitemap entry's own URL are carried, and an entry without ``lastmod``
(or with one in the future, or unparseable) is always fetched: skipping is never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Clocks differ and lastmod is often rounded to the day (or the minute): a page modified
# shortly before the previous run may have been read before the change.
SAFETY_MARGIN = timedelta(days=1)


def parse_lastmod(value: object) -> datetime | None:
    """W3C datetime as sitemaps write it (``2025-11-01``, ``2025-11-01T08:00:00+01:00``, ``…Z``)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class PreviousRun:
    run_id: str
    started: datetime
    by_url: dict[str, list[dict]]

    @classmethod
    def load(cls, run_dir: Path, current_run_id: str) -> PreviousRun | None:
        """The newest run in ``run_dir`` that finished normally, with its product records."""
        manifests = sorted(run_dir.glob("*.json"), reverse=True)
        for path in manifests:
            try:
                manifest = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if manifest.get("run_id") == current_run_id or manifest.get("finish_reason") != "finished":
                continue
            if manifest.get("page_errors", 0) and manifest.get("page_errors", 0) * 10 > max(
                1, manifest.get("pages", 0)
            ):
                continue  # a run that lost more than a tenth of its pages is not a baseline
            started = parse_lastmod(manifest.get("started_at"))
            run_file = path.with_suffix(".jsonl")
            if started is None or not run_file.exists():
                continue
            by_url: dict[str, list[dict]] = {}
            try:
                for line in run_file.read_text(encoding="utf-8").splitlines():
                    record = json.loads(line)
                    if record.get("type") == "product" and record.get("url"):
                        by_url.setdefault(record["url"], []).append(record)
            except (OSError, ValueError):
                continue
            return cls(manifest.get("run_id", path.stem), started, by_url)
        return None

    def unchanged(self, loc: object, lastmod: object) -> list[dict] | None:
        """The previous records of ``loc`` when its ``lastmod`` predates the previous run."""
        modified = parse_lastmod(lastmod)
        if not isinstance(loc, str) or modified is None or loc not in self.by_url:
            return None
        return self.by_url[loc] if modified < self.started - SAFETY_MARGIN else None


def carry(records: list[dict], run_id: str, source=None) -> list[dict]:
    """Records of the previous run, as this run's: the product as it was read, the shop's
    fields as the registry says them now (a chamber may have fixed a town since)."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    shop = {}
    if source is not None:
        shop = {
            "shop_name": source.name,
            "shop_url": source.url,
            "town": source.town,
            "postcode": source.postcode,
            "lat": source.geo.lat if source.geo else None,
            "lon": source.geo.lon if source.geo else None,
            "categories": list(source.categories),
            "services": list(source.services or []),
        }
    return [{**record, **shop, "run_id": run_id, "last_seen": now} for record in records]
