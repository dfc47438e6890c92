"""Static files under content-hashed names: cached for a year, never stale.

Real app under waitress on 127.0.0.1, real HTTP (requests)."""

from __future__ import annotations

import re

import pytest
import requests

from portal import assets

IMMUTABLE = "public, max-age=31536000, immutable"


def test_hash_follows_the_content(tmp_path):
    (tmp_path / "style.css").write_text("body { color: black }")
    (tmp_path / "vendor" / "leaflet").mkdir(parents=True)
    (tmp_path / "vendor" / "leaflet" / "leaflet.css").write_text(".leaflet { }")
    (tmp_path / ".hidden").write_text("editor swap file")
    before = assets.build_manifest(tmp_path)

    (tmp_path / "style.css").write_text("body { color: navy }")
    after = assets.build_manifest(tmp_path)

    assert set(before) == {"style.css", "vendor/leaflet/leaflet.css"}
    assert re.fullmatch(r"[0-9a-f]{8}", before["style.css"])
    assert before["style.css"] != after["style.css"]
    assert before["vendor/leaflet/leaflet.css"] == after["vendor/leaflet/leaflet.css"]


@pytest.mark.parametrize(
    ("name", "hashed"),
    [
        ("style.css", "style.0123abcd.css"),
        ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.0123abcd.js"),
        ("vendor/leaflet/images/marker-icon.png", "vendor/leaflet/images/marker-icon.0123abcd.png"),
        ("LICENSE", "LICENSE.0123abcd"),
        ("jquery.min.js", "jquery.min.0123abcd.js"),
    ],
)
def test_hashed_names_keep_folder_and_extension(name, hashed):
    assert assets.hashed_name(name, "0123abcd") == hashed
    if "." in name:
        assert assets.split_hashed(hashed) == (name, "0123abcd")


def test_plain_names_are_not_taken_for_hashed_ones():
    assert assets.split_hashed("style.css") is None
    assert assets.split_hashed("app.min.js") is None
    assert assets.split_hashed("photo.DEADBEEF.jpg") is None  # digests are lower-case hex


def asset_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_pages_link_hashed_assets_served_immutable(portal_url):
    html = requests.get(portal_url + "/", timeout=10).text
    links = asset_links(html)
    assert any(re.fullmatch(r"/static/style\.[0-9a-f]{8}\.css", link) for link in links), links
    assert any(re.fullmatch(r"/static/app\.[0-9a-f]{8}\.js", link) for link in links), links
    for link in links:
        response = requests.get(portal_url + link, timeout=10)
        assert response.status_code == 200, link
        assert response.headers["Cache-Control"] == IMMUTABLE
        plain = requests.get(portal_url + re.sub(r"\.[0-9a-f]{8}(\.[a-z]+)$", r"\1", link), timeout=10)
        assert plain.content == response.content


def test_hashed_asset_answers_304_to_its_etag(portal_url):
    link = next(link for link in asset_links(requests.get(portal_url + "/", timeout=10).text) if link.endswith(".css"))
    first = requests.get(portal_url + link, timeout=10)
    etag = first.headers["ETag"]
    again = requests.get(portal_url + link, headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["Cache-Control"] == IMMUTABLE


def test_plain_name_still_works_with_a_short_cache(portal_url):
    response = requests.get(portal_url + "/static/style.css", timeout=10)
    assert response.status_code == 200
    assert "text/css" in response.headers["Content-Type"]
    assert "immutable" not in response.headers["Cache-Control"]
    assert f"max-age={assets.SHORT_MAX_AGE}" in response.headers["Cache-Control"]


def test_an_older_releases_hash_gets_todays_file_not_cached_long(portal_url):
    current = requests.get(portal_url + "/static/style.css", timeout=10)
    stale = requests.get(portal_url + "/static/style.00000000.css", timeout=10)
    assert stale.status_code == 200
    assert stale.content == current.content
    assert "immutable" not in stale.headers["Cache-Control"]


@pytest.mark.parametrize(
    "path",
    ["/static/absent.css", "/static/absent.0123abcd.css", "/static/../pyproject.toml", "/static/%2e%2e/__init__.py"],
)
def test_unknown_or_escaping_static_paths_are_404(portal_url, path):
    assert requests.get(portal_url + path, timeout=10).status_code == 404


def test_vendored_files_in_subfolders_get_hashed_urls(portal_config, tmp_path):
    from portal import create_app
    from portal.server import serving_in_thread

    leaflet = tmp_path / "vendor" / "leaflet"
    (leaflet / "images").mkdir(parents=True)
    (leaflet / "leaflet.css").write_text(".leaflet-container { overflow: hidden }")
    (leaflet / "images" / "marker-icon.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    app = create_app(portal_config)
    app.static_folder = str(tmp_path)
    assets.init_app(app)
    with app.test_request_context():
        css = app.jinja_env.globals["asset_url"]("vendor/leaflet/leaflet.css")
        missing = app.jinja_env.globals["asset_url"]("not-there.js")
    assert re.fullmatch(r"/static/vendor/leaflet/leaflet\.[0-9a-f]{8}\.css", css)
    assert missing == "/static/not-there.js"
    with serving_in_thread(app) as base:
        response = requests.get(base + css, timeout=10)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.text.startswith(".leaflet-container")
        # the stylesheet's relative url(images/...) resolves next to it, under the plain name
        image = requests.get(base + "/static/vendor/leaflet/images/marker-icon.png", timeout=10)
        assert image.status_code == 200 and image.content.startswith(b"\x89PNG")


def test_text_assets_are_gzipped_once_with_their_own_etag(portal_url):
    link = next(link for link in asset_links(requests.get(portal_url + "/", timeout=10).text) if link.endswith(".css"))
    gzipped = requests.get(portal_url + link, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=10)
    raw = gzipped.raw.read()
    identity = requests.get(portal_url + link, headers={"Accept-Encoding": "identity"}, timeout=10)
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in identity.headers
    import gzip

    assert gzip.decompress(raw) == identity.content
    assert len(raw) < len(identity.content) / 2
    for response in (gzipped, identity):
        assert response.headers["Vary"] == "Accept-Encoding"
        assert response.headers["Cache-Control"] == IMMUTABLE
    assert gzipped.headers["ETag"] != identity.headers["ETag"]
    again = requests.get(
        portal_url + link, headers={"Accept-Encoding": "gzip", "If-None-Match": gzipped.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
