"""Stored images no kept run file uses any more are collected after indexing; the ones in
use, and the ones younger than a day, stay; a recrawl fetches a collected image again.

Real parts: a shop on 127.0.0.1 serving real JPEGs, `emplettes crawl` (Scrapy, the image
pipeline) writing real run files and image files, `emplettes index` collecting, the
scheduler's pruning of old run files (:func:`indexer.runs.prune_runs`). Only the passing of
time is simulated: file times are set a couple of days back (``age``) rather than waited for.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from indexer.images import IMAGE_SIZES, image_file, images_dir, is_stored, source_map_file
from indexer.runs import prune_runs
from indexer.state import IndexState
from indexer.unused_images import GRACE_SECONDS, STAMP, collect_unused_images

pytestmark = pytest.mark.e2e

SOURCE = "boutique-photos"
COLOURS = {"rouge": (200, 30, 30), "vert": (30, 160, 60), "bleu": (30, 60, 200), "jaune": (230, 200, 20)}


@functools.cache
def jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    # Noise over the colour: a photo's weight, not a flat colour's few hundred bytes.
    noise = Image.effect_noise((640, 480), 40).convert("RGB")
    out = io.BytesIO()
    Image.blend(Image.new("RGB", (640, 480), colour), noise, 0.3).save(out, "JPEG", quality=90)
    return out.getvalue()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class PhotoShop:
    """A shop whose catalogue (product number -> (name, picture colour)) the test edits."""

    def __init__(self) -> None:
        self.catalogue: dict[int, tuple[str, str]] = {}
        self.asked: list[str] = []
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.base = f"http://127.0.0.1:{self.server.port}/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def app(self, environ, start_response):
        path = Request(environ).path
        self.asked.append(path)
        if path == "/robots.txt":
            answer = Response(f"User-agent: *\nSitemap: {self.base}sitemap.xml\n", content_type="text/plain")
        elif path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base}p/{n}</loc></url>" for n in self.catalogue)
            answer = Response(
                f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>',
                content_type="application/xml",
            )
        elif path.startswith("/img/") and path[5:-4] in COLOURS:
            answer = Response(jpeg(COLOURS[path[5:-4]]), mimetype="image/jpeg")
        elif path.startswith("/p/") and path[3:].isdigit() and int(path[3:]) in self.catalogue:
            answer = self.page(int(path[3:]))
        elif path == "/":
            answer = Response("<!doctype html><html lang='fr'><title>Photos</title></html>", mimetype="text/html")
        else:
            answer = Response("introuvable", status=404)
        return answer(environ, start_response)

    def image_url(self, colour: str) -> str:
        return f"{self.base}img/{colour}.jpg"

    def page(self, n: int) -> Response:
        name, colour = self.catalogue[n]
        data = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": name,
            "sku": f"PH-{n}",
            "url": f"{self.base}p/{n}",
            "image": self.image_url(colour),
            "offers": {"@type": "Offer", "price": f"{10 + n}.50", "priceCurrency": "EUR"},
        }
        html = (
            f'<!doctype html><html lang="fr"><head><title>{name}</title>'
            f'<link rel="canonical" href="{self.base}p/{n}">'
            f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
            f"<body><h1>{name}</h1></body></html>"
        )
        return Response(html, content_type="text/html; charset=utf-8")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def shop():
    served = PhotoShop()
    yield served
    served.close()


def emplettes(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SOURCES_FILE": str(data_dir.parent / "sources.yaml"),
        "SEARCH_BACKEND": "tantivy",
        "CRAWL_DELAY": "0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def crawl(data_dir: Path, shop: PhotoShop) -> dict[str, str]:
    """``emplettes crawl`` of the shop: product name -> image key in the new run file."""
    (data_dir.parent / "sources.yaml").write_text(
        "sources:\n"
        f"  - id: {SOURCE}\n    name: Boutique aux photos\n    url: {shop.base}\n    kind: website\n"
        '    town: Laval\n    postcode: "53000"\n    allow_private: true\n'
    )
    emplettes(data_dir, "crawl")
    newest = sorted((data_dir / "runs" / SOURCE).glob("*.jsonl"))[-1]
    records = [json.loads(line) for line in newest.read_text().splitlines()]
    return {r["name"]: r.get("image_key") for r in records if r.get("type") == "product"}


def files_of(root: Path, key: str) -> list[Path]:
    return [image_file(root, key, size) for size in IMAGE_SIZES]


def age(paths: list[Path], seconds: float) -> None:
    """A couple of days pass, for these files (the collection's stamp only once it exists)."""
    when = time.time() - seconds
    for path in paths:
        if path.name != STAMP or path.exists():
            os.utime(path, (when, when))


def test_images_no_kept_run_uses_are_collected_after_indexing_and_fetched_again_when_needed(tmp_path, shop):
    data_dir = tmp_path / "data"
    root = images_dir(data_dir)
    shop.catalogue = {1: ("Théière", "rouge"), 2: ("Tasse", "vert"), 3: ("Soucoupe", "bleu")}
    first = crawl(data_dir, shop)
    emplettes(data_dir, "index")
    assert all(is_stored(root, key) for key in first.values()) and len(set(first.values())) == 3
    every_file = [path for key in first.values() for path in files_of(root, key)]
    age([*every_file, root / STAMP], 2 * GRACE_SECONDS)

    # The shop drops its saucer and changes the cup's picture; the teapot's is reused.
    shop.catalogue = {1: ("Théière", "rouge"), 2: ("Tasse", "jaune")}
    second = crawl(data_dir, shop)
    assert second["Théière"] == first["Théière"]
    assert time.time() - files_of(root, first["Théière"])[0].stat().st_mtime < GRACE_SECONDS  # touched on reuse
    # The first run is pruned as the scheduler does after indexing (RUNS_KEEP=1 here).
    emplettes(data_dir, "index")
    state = IndexState(data_dir / "state.sqlite3")
    assert len(prune_runs(data_dir / "runs", state.outcomes(), keep=1)) == 1
    state.close()
    # An image a crawl still running has just stored: no run file names it yet.
    fresh_key = "f" * 32
    for path in files_of(root, fresh_key):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF....WEBP")
    unused = [path for name in ("Tasse", "Soucoupe") for path in files_of(root, first[name])]
    unused_bytes = sum(path.stat().st_size for path in unused)
    age([*unused, root / STAMP], 2 * GRACE_SECONDS)

    result = emplettes(data_dir, "index")

    assert not any(path.exists() for path in unused)
    assert is_stored(root, second["Théière"]) and is_stored(root, second["Tasse"])
    assert is_stored(root, fresh_key)  # younger than a day
    said = re.search(r"images inutilisées supprimées : (\d+) fichiers, (\d+),(\d) ko", result.stderr)
    assert said, result.stderr
    assert int(said[1]) == len(unused) == 4
    assert abs(int(said[2]) * 1000 + int(said[3]) * 100 - unused_bytes) <= 100
    known = json.loads(source_map_file(root, SOURCE).read_text())
    assert shop.image_url("bleu") not in known and shop.image_url("vert") not in known
    assert shop.image_url("rouge") in known

    # A collection just ran: the next `index` does not read every run file again.
    collected_at = (root / STAMP).stat().st_mtime
    emplettes(data_dir, "index")
    assert (root / STAMP).stat().st_mtime == collected_at

    # The saucer is back with its old picture: fetched again, stored again.
    shop.catalogue[3] = ("Soucoupe", "bleu")
    asked = shop.asked.count("/img/bleu.jpg")
    third = crawl(data_dir, shop)
    assert third["Soucoupe"] == first["Soucoupe"]
    assert shop.asked.count("/img/bleu.jpg") == asked + 1
    assert is_stored(root, third["Soucoupe"])


def test_a_map_entry_whose_files_were_collected_is_fetched_again(tmp_path, shop):
    """The crawler's map may still name a collected key (a crawl running during the
    collection writes its map back): the files missing, the image is fetched again."""
    data_dir = tmp_path / "data"
    root = images_dir(data_dir)
    shop.catalogue = {1: ("Théière", "rouge")}
    key = crawl(data_dir, shop)["Théière"]
    for path in files_of(root, key):
        path.unlink()
    assert key in json.dumps(json.loads(source_map_file(root, SOURCE).read_text()))
    asked = shop.asked.count("/img/rouge.jpg")
    assert crawl(data_dir, shop)["Théière"] == key
    assert shop.asked.count("/img/rouge.jpg") == asked + 1 and is_stored(root, key)


def test_without_any_run_file_nothing_is_collected(tmp_path):
    """An empty or misplaced runs folder would make every image look unused."""

    class Settings:
        data_dir = tmp_path
        runs_dir = tmp_path / "runs"

    old = files_of(images_dir(tmp_path), "a" * 32)
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"RIFF....WEBP")
    age(old, 2 * GRACE_SECONDS)
    assert collect_unused_images(Settings(), every=0) is None
    assert all(path.exists() for path in old)
