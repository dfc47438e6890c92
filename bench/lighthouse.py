"""Lighthouse scores of the portal's main pages, in the system Chromium.

    make lighthouse                                   # or:
    .venv/bin/python bench/lighthouse.py              # sample index, mobile (Lighthouse's default)
    .venv/bin/python bench/lighthouse.py --preset desktop
    .venv/bin/python bench/lighthouse.py --data-dir data --shop <shop id>   # an existing index

Builds the test suite's sample index (tests/portal_samples.py ``portal_records``: 6 shops, 29
products) in a temporary DATA_DIR, starts the portal with the production server
(``emplettes serve``: waitress), and runs Lighthouse (npm, pinned in tools/package-lock.json:
``make tools``) on the home, results, all-products, shop and directory pages. Prints the four
category scores per page, the bytes each page transfers (all, and images alone) and the
audits that cost points.

Product images stand in for a shop's catalogue photos: a 1200×900 JPEG (quality 85) per
image URL, served from a second local port (the shops' own hosts). ``--images portal`` (the
default) stores them as the crawler does (crawler/images.py: checked, WebP, two sizes) and
the portal serves its copies; ``--images shop`` leaves the records pointing at the shops'
hosts, as the portal showed them before it served images itself (run it on that version of
the portal: the current one shows only its own copies).

Targets (issue #6): accessibility, best practices and SEO >= 95 on every page,
performance >= 90 on the results page. Exits 1 when one is missed.
Needs Chromium (CHROME_PATH, default /usr/bin/chromium) and Node.js.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
LIGHTHOUSE = ROOT / "tools" / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
TARGETS = {"accessibility": 95, "best-practices": 95, "seo": 95}
PERFORMANCE_TARGET = ("results", 90)
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photo(path: str, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A catalogue photo stand-in: tinted by ``path``, with the grain of a real picture (flat
    colours would compress to nothing and flatter every format)."""
    from PIL import Image, ImageFilter

    hue = zlib.crc32(path.encode())
    tint = Image.new("RGB", size, (160 + hue % 80, 150 + (hue >> 8) % 90, 140 + (hue >> 16) % 100))
    grain = Image.effect_noise(size, 40).filter(ImageFilter.GaussianBlur(1.2)).convert("RGB")
    picture = Image.blend(tint, grain, 0.35)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


@functools.cache
def photo_for(path: str) -> bytes:
    return photo(path)


class ImageHandler(BaseHTTPRequestHandler):
    """The shops' image hosts: any path answers a catalogue photo tinted by the path."""

    def do_GET(self):
        body = photo_for(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "public, max-age=86400")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def sample_data_dir(image_base: str, images: str) -> Path:
    """A DATA_DIR whose index holds the test suite's sample records, images on ``image_base``
    (``images="shop"``) or stored in the DATA_DIR as the crawler stores them (``"portal"``)."""
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from portal_samples import portal_records

    from indexer.backends.tantivy import TantivyBackend

    records = portal_records()
    data_dir = Path(tempfile.mkdtemp(prefix="emplettes-lighthouse-"))
    for record in records:
        if record.get("image", "").startswith("https://"):
            path = urlsplit(record["image"]).path
            record["image"] = image_base + path
            if images == "portal":
                from crawler.images import prepare_image, store_image
                from indexer.images import images_dir

                key, files = prepare_image(photo_for(path))
                store_image(images_dir(data_dir), key, files)
                record["image_key"] = key
    with TantivyBackend(data_dir / "index") as backend:
        backend.upsert(records)
    return data_dir


def start_portal(data_dir: Path, port: int, *, sources_file: Path | None = None, probe: str = "/") -> subprocess.Popen:
    """``emplettes serve`` on ``port``, returned once ``probe`` answers."""
    env = {**os.environ, "DATA_DIR": str(data_dir), "API_RATE_LIMIT": "off"}
    if sources_file is not None:
        env["SOURCES_FILE"] = str(sources_file)
    portal = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    for _ in range(100):
        try:
            urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1).read()
            return portal
        except OSError as error:
            if portal.poll() is not None:
                raise SystemExit(f"the portal did not start:\n{portal.stderr.read().decode()}") from error
            time.sleep(0.2)
    portal.kill()
    raise SystemExit("the portal did not answer within 20 s")


def audit(url: str, preset: str | None, out: Path, headers: dict[str, str] | None = None) -> dict:
    """Lighthouse's JSON report of ``url``; ``headers`` sent with every request (a session cookie)."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    if headers:
        command.append(f"--extra-headers={json.dumps(headers)}")
    if preset:
        command.append(f"--preset={preset}")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    subprocess.run(command, check=True, env=env, timeout=300)
    return json.loads(out.read_text())


def transferred(report: dict) -> tuple[int, int]:
    """Bytes the page made the browser download: everything, and images alone."""
    requests = report["audits"]["network-requests"]["details"]["items"]
    total = sum(int(r.get("transferSize") or 0) for r in requests)
    images = sum(int(r.get("transferSize") or 0) for r in requests if r.get("resourceType") == "Image")
    return total, images


def lost_points(report: dict) -> list[str]:
    """The audits that count in a category's score and did not fully pass."""
    lines = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            result = report["audits"][ref["id"]]
            if ref["weight"] and result["score"] is not None and result["score"] < 1:
                value = result.get("displayValue", "")
                lines.append(f"    {category}: {ref['id']} {result['score']:.2f} {value}".rstrip())
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="audit this DATA_DIR's index instead of the sample")
    parser.add_argument("--shop", default="senteurs-loire", help="shop id of the shop page (default: a sample shop)")
    parser.add_argument("--preset", choices=["desktop"], help="Lighthouse's desktop preset (default: mobile)")
    parser.add_argument(
        "--images",
        choices=["portal", "shop"],
        default="portal",
        help="portal: images stored and served by the portal (default); shop: on the shops' hosts",
    )
    parser.add_argument("--pages", default="", help="comma-separated page names to audit (default: all)")
    parser.add_argument(
        "--reports",
        type=Path,
        default=ROOT / "artifacts" / "lighthouse",
        help="where the JSON reports go (default: artifacts/lighthouse)",
    )
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `make tools` (npm ci --prefix tools)")

    images = ThreadingHTTPServer(("127.0.0.1", 0), ImageHandler)
    threading.Thread(target=images.serve_forever, daemon=True).start()
    data_dir = args.data_dir or sample_data_dir(f"http://127.0.0.1:{images.server_address[1]}", args.images)
    port = free_port()
    portal = start_portal(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    pages = {
        "home": "/",
        "results": "/recherche?q=bougie",
        "all-products": "/recherche",
        "shop": f"/boutique/{args.shop}",
        "directory": "/boutiques",
    }
    if args.pages:
        pages = {name: path for name, path in pages.items() if name in args.pages.split(",")}
    args.reports.mkdir(parents=True, exist_ok=True)
    missed = []
    try:
        version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
        print(
            f"Lighthouse {version}, {args.preset or 'mobile'}, portal {base} (waitress), index {data_dir}, "
            f"images from the {args.images}"
        )
        print(f"{'page':<14}{'perf':>6}{'a11y':>6}{'best':>6}{'seo':>6}{'KB':>8}{'img KB':>8}  url")
        for name, path in pages.items():
            report = audit(base + path, args.preset, args.reports / f"{name}-{args.preset or 'mobile'}.json")
            scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
            total, image_bytes = transferred(report)
            print(
                f"{name:<14}"
                + "".join(f"{scores[c]:>6}" for c in CATEGORIES)
                + f"{total / 1024:>8.1f}{image_bytes / 1024:>8.1f}  {path}",
                flush=True,
            )
            for line in lost_points(report):
                print(line)
            missed += [f"{name} {c} {scores[c]} < {t}" for c, t in TARGETS.items() if scores[c] < t]
            if name == PERFORMANCE_TARGET[0] and scores["performance"] < PERFORMANCE_TARGET[1]:
                missed.append(f"{name} performance {scores['performance']} < {PERFORMANCE_TARGET[1]}")
    finally:
        portal.terminate()
        portal.wait(timeout=10)
        images.shutdown()
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
