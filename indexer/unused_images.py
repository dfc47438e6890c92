"""Collecting the stored product images that no kept run file uses any more.

The crawler stores each image once under a key (:mod:`indexer.images`) and never deletes
one: a product removed, a picture changed or a shop gone leaves files nobody shows. The
run files are the truth about what is in use: the index only holds records of runs still
on disk (:func:`indexer.runs.prune_runs` never deletes a run the index may still need, and
``reindex`` rebuilds from them), so an image no kept run file names is on no page, on
tantivy or on Elasticsearch alike.

Three guards:

- **grace**: a file modified less than ``GRACE_SECONDS`` ago is kept. A crawl running now
  stores an image before its record reaches the run file, and a crawl reusing a stored
  image touches its files (:mod:`crawler.images`), so it counts as fresh too;
- **no run files, no collection**: an empty or misplaced ``runs/`` would make every image
  look unused;
- a run file that cannot be read stops the collection (its images might be in use).

Reading every kept run file is the cost, so ``emplettes index`` (and the scheduler, which
calls it after each crawl) collects at most once every ``COLLECT_EVERY_SECONDS``; images
of runs pruned after indexing go at the next collection. ``emplettes reindex``, which
reads them all anyway, always collects. Each source's map of image URL -> key
(:func:`indexer.images.source_map_file`) forgets the keys removed, so a recrawl fetches
those images again; a crawl of that source running meanwhile may write its map back with
them, and then fetches them again all the same, as the files are gone.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.i18n import ngettext
from indexer.images import KEY_PATTERN, images_dir, is_image_key, source_maps_dir
from indexer.runs import RunInfo, list_runs, read_run

log = logging.getLogger(__name__)

GRACE_SECONDS = 86_400  # a day: longer than any crawl (CRAWL_TIME_LIMIT)
COLLECT_EVERY_SECONDS = 6 * 3600
STAMP = ".collected"  # in the images folder: when the last collection ran
_FOLDER = re.compile(r"[0-9a-f]{2}")
# what the crawler writes in a key's folder: the sizes, and temporary files while writing
_STORED = re.compile(rf"(?P<key>{KEY_PATTERN})-[a-z]+\.webp|\.tmp-.*")


@dataclass
class Collection:
    files: int = 0
    bytes: int = 0
    keys: frozenset[str] = frozenset()  # the images removed


def keys_in_use(runs: list[RunInfo]) -> set[str]:
    """The image keys the given run files name; raises OSError on a file that cannot be read."""
    used: set[str] = set()
    for run in runs:
        if not run.path.exists():  # a crawl killed before its first record: a manifest alone
            continue
        for record in read_run(run.path):
            key = record.get("image_key")
            if isinstance(key, str) and is_image_key(key):
                used.add(key)
    return used


def collect_unused_images(
    config,
    *,
    out: TextIO | None = None,
    every: float = COLLECT_EVERY_SECONDS,
    grace: float = GRACE_SECONDS,
) -> Collection | None:
    """Delete the image files no kept run file uses and older than ``grace``; None when no
    collection was due or possible. Says what it removed on ``out`` and in the log."""
    root = images_dir(Path(config.data_dir))
    if not root.is_dir():
        return None
    now = time.time()
    stamp = root / STAMP
    try:
        if every and now - stamp.stat().st_mtime < every:
            return None
    except FileNotFoundError:
        pass
    runs = [run for run in list_runs(config.runs_dir) if run.path.exists()]
    if not runs:
        return None
    try:
        used = keys_in_use(runs)
    except OSError as exc:
        log.warning("images not collected: a run file could not be read (%s)", exc)
        return None
    collection = Collection()
    removed: set[str] = set()
    for folder in sorted(root.iterdir()):
        if not (_FOLDER.fullmatch(folder.name) and folder.is_dir()):
            continue  # sources/ (the crawler's maps), anything else: not images
        for path in folder.iterdir():
            match = _STORED.fullmatch(path.name)
            if match is None or match["key"] in used:
                continue
            try:
                status = path.stat()
                if now - status.st_mtime < grace:
                    continue
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:  # a file of another owner, a read-only disk: the next one
                log.warning("image %s not removed: %s", path, exc)
                continue
            collection.files += 1
            collection.bytes += status.st_size
            if match["key"]:
                removed.add(match["key"])
    collection.keys = frozenset(removed)
    try:
        forget_keys(root, removed)
        stamp.touch()
    except OSError as exc:
        log.warning("images: %s", exc)
    if collection.files:
        message = ngettext(
            "images inutilisées supprimées : %(num)d fichier, %(size)s",
            "images inutilisées supprimées : %(num)d fichiers, %(size)s",
            collection.files,
            size=_size(collection.bytes),
        )
        log.info("%s", message)
        if out is not None:
            print("  " + message, file=out, flush=True)
    return collection


def forget_keys(root: Path, keys: set[str]) -> None:
    """Drop the entries of ``keys`` from every source's map of image URL -> key."""
    if not keys:
        return
    maps = source_maps_dir(root)
    for path in sorted(maps.glob("*.json")) if maps.is_dir() else []:
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # the crawler reads an unreadable map as empty
        if not isinstance(known, dict):
            continue
        kept = {
            url: entry
            for url, entry in known.items()
            if not (isinstance(entry, list) and entry[:1] and entry[0] in keys)
        }
        if len(kept) == len(known):
            continue
        tmp = path.with_suffix(".collecting")
        tmp.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def _size(count: int) -> str:
    """``12,5 Mo``: French decimal comma, as the portal writes prices."""
    for unit, scale in (("Go", 1e9), ("Mo", 1e6), ("ko", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}".replace(".", ",")
    return f"{count} o"
