"""OFFLINE_MAP_FILE: a region's own contours file served by the portal over HTTP, same-origin
under the CSP; ``off`` for no contours; a missing or malformed file stops ``emplettes serve``
with one French line and exit status 2. (The drawing itself: test_browser_map.py.)"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from portal_samples import extra_records, portal_records

BUNDLED = Path(__file__).parent.parent / "portal" / "static" / "geo" / "centre-val-de-loire.json"


def one_departement(tmp_path: Path, code: str = "37") -> Path:
    """A contours file as ``python -m portal.mapdata --region`` writes it, for a smaller
    "region": one département of the bundled file and its communes."""
    data = json.loads(BUNDLED.read_text(encoding="utf-8"))
    data["region"] = f"departement-{code}"
    data["departements"] = [d for d in data["departements"] if d["code"] == code]
    data["communes"] = [c for c in data["communes"] if str(c.get("code", "")).startswith(code)]
    path = tmp_path / f"departement-{code}.json"
    path.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    return path


def serve(tmp_path: Path, offline_map_file: str):
    from config import Config
    from indexer.backends.tantivy import TantivyBackend
    from portal import create_app
    from portal.server import serving_in_thread

    config = Config(data_dir=tmp_path / "data", api_rate_limit="off", offline_map_file=offline_map_file)
    with TantivyBackend(config.index_dir) as backend:
        backend.upsert(portal_records() + extra_records())
    return serving_in_thread(create_app(config))


def data_geo(html: str) -> list[str]:
    return re.findall(r'data-geo="([^"]+)"', html)


def test_a_regions_own_contours_file_is_served_by_the_portal_itself(tmp_path):
    path = one_departement(tmp_path)
    with serve(tmp_path, str(path)) as url:
        for page in ("/boutiques", "/boutique/boite-a-livres"):
            response = requests.get(url + page, timeout=10)
            (geo,) = data_geo(response.text)
            assert re.fullmatch(r"/carte/contours\.[0-9a-f]{8}\.json", geo), geo
            assert "IGN Admin Express et INSEE, Licence Ouverte" in response.text
            assert "default-src 'self'" in response.headers["Content-Security-Policy"]  # fetch() same-origin only
        contours = requests.get(url + geo, timeout=10, headers={"Accept-Encoding": "gzip"})
        assert contours.status_code == 200
        assert contours.headers["Content-Type"].startswith("application/json")
        assert "immutable" in contours.headers["Cache-Control"]
        assert contours.headers.get("Content-Encoding") == "gzip"  # requests decodes it below
        region = contours.json()
        assert region["region"] == "departement-37"
        assert [d["code"] for d in region["departements"]] == ["37"]
        assert region == json.loads(path.read_text(encoding="utf-8"))
        # A page cached before the file changed still gets today's contours, briefly cached.
        older = requests.get(url + "/carte/contours.00000000.json", timeout=10)
        assert older.status_code == 200 and "immutable" not in older.headers["Cache-Control"]


def test_without_the_setting_the_bundled_region_is_a_static_asset_and_no_contours_route(tmp_path):
    with serve(tmp_path, "") as url:
        (geo,) = data_geo(requests.get(url + "/boutiques", timeout=10).text)
        assert re.fullmatch(r"/static/geo/centre-val-de-loire\.[0-9a-f]{8}\.json", geo), geo
        assert requests.get(url + "/carte/contours.00000000.json", timeout=10).status_code == 404


def test_off_draws_no_contours_and_credits_none(tmp_path):
    with serve(tmp_path, "off") as url:
        html = requests.get(url + "/boutiques", timeout=10).text
        assert data_geo(html) == [] and "data-tiles" not in html
        assert 'class="map-canvas map-canvas--offline"' in html  # the markers still have their map
        assert "Licence Ouverte" not in html
        assert requests.get(url + "/carte/contours.00000000.json", timeout=10).status_code == 404


def emplettes_serve(tmp_path: Path, offline_map_file: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("EMPLETTES_LANG", "PORT")}
    env.update(DATA_DIR=str(tmp_path / "data"), OFFLINE_MAP_FILE=offline_map_file)
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "serve", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "fichier illisible (fichier introuvable)"),
        ("", "JSON invalide"),
        ('{"type": "FeatureCollection", "features": []}', "« scale » manque"),
        ('{"scale": 1000, "departements": [{"code": "37", "p": [[["a"]]]}], "communes": []}', "n°1"),
        ('{"scale": 1000, "departements": [], "communes": []}', "aucun contour"),
    ],
    ids=["missing", "empty", "geojson-not-built", "bad-rings", "no-shape"],
)
def test_serve_stops_with_a_french_line_when_the_contours_file_is_missing_or_wrong(tmp_path, content, problem):
    path = tmp_path / "region.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    done = emplettes_serve(tmp_path, str(path))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"emplettes : OFFLINE_MAP_FILE='{path}'")
    assert problem in line
    assert "python -m portal.mapdata" in line and "OFFLINE_MAP_FILE=off" in line


def test_a_directory_given_as_contours_file_is_the_same_clear_error(tmp_path):
    done = emplettes_serve(tmp_path, str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "fichier illisible (c'est un dossier)" in done.stderr
