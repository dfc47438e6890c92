"""A portal with a chambers' dashboard to test: two chambers, their sources, runs, accounts.

- ``sources.yaml`` gives ``cci-touraine`` as the default chamber; one source belongs to
  ``cci-loiret``.
- Run files (with the manifests the crawler writes) are loaded by the real indexer into a
  real tantivy index, so the state table, the run history and the catalogue agree.
- Accounts are created through the real ``emplettes users add`` (password on stdin).
- Crawled text carries scripts: a product name, a description, a shop name.

``login(base, email, password)`` returns a ``requests.Session`` logged in through the form.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from run_files import manifest, product, write_run

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
TOURAINE_ADMIN = "admin@cci-touraine.fr"
TOURAINE_EDITOR = "agent@cci-touraine.fr"
LOIRET_ADMIN = "admin@cci-loiret.fr"
HOSTILE_SHOP = 'Senteurs <script>alert("boutique")</script> de Loire'
HOSTILE_DESCRIPTION = '<img src=x onerror="alert(1)"> Cire naturelle'
HOSTILE_PRODUCT = 'Bougie <script>alert("xss")</script> vanille'

REGISTRY = """\
# Le registre des chambres (test)
defaults:
  chamber: cci-touraine
sources:
  - id: senteurs-loire
    name: Senteurs de Loire
    url: https://senteurs.example/
    town: Tours
    postcode: "37000"
  - id: epicerie-berry
    name: Épicerie du Berry
    url: https://berry.example/
    kind: woocommerce
    town: Bourges
    postcode: "18000"
  - id: cycles-orleans   # l'autre chambre
    name: Cycles d'Orléans
    url: https://cycles.example/
    town: Orléans
    postcode: "45000"
    chamber: cci-loiret
"""

RUN_OK = "20261120T080000Z-aaaa"
RUN_FAILED = "20261120T090000Z-bbbb"


def _products(source_id: str, shop_name: str, names: list[str], run_id: str, **changes: Any) -> list[dict]:
    return [
        product(
            n,
            run_id,
            source_id=source_id,
            shop_id=source_id,
            shop_name=shop_name,
            name=name,
            url=f"https://{source_id}.example/p/{n}",
            **changes,
        )
        for n, name in enumerate(names)
    ]


def write_runs(runs_dir: Path) -> None:
    good = _products(
        "senteurs-loire",
        HOSTILE_SHOP,
        [HOSTILE_PRODUCT, "Bougie figue", "Diffuseur lavande"],
        RUN_OK,
        description=HOSTILE_DESCRIPTION,
        brand="Senteurs",
        image="https://senteurs-loire.example/img.jpg",
        availability="in_stock",
    )
    good[2]["gtin"] = None
    write_run(
        runs_dir,
        RUN_OK,
        good,
        source_id="senteurs-loire",
        sidecar=manifest(RUN_OK, "senteurs-loire", items=3, products=3, robots_forbidden=2),
    )
    bare = _products("epicerie-berry", "Épicerie du Berry", ["Lentilles vertes", "Miel de Sologne"], RUN_FAILED)
    write_run(
        runs_dir,
        RUN_FAILED,
        bare,
        source_id="epicerie-berry",
        sidecar=manifest(
            RUN_FAILED,
            "epicerie-berry",
            started_at="2026-11-20T09:00:00Z",
            finish_reason="shutdown",
            pages=12,
            page_errors=9,
            errors={"http_500": 7, "timeout": 2},
            failed_urls={
                "http_500": ["https://berry.example/p/miel", 'https://berry.example/"><script>alert(2)</script>']
            },
            items=2,
            products=2,
        ),
    )
    other = _products("cycles-orleans", "Cycles d'Orléans", ["Vélo de ville"], RUN_OK)
    write_run(runs_dir, RUN_OK, other, source_id="cycles-orleans", sidecar=manifest(RUN_OK, "cycles-orleans"))


def emplettes(config, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(config.data_dir), "SOURCES_FILE": str(config.sources_file)}
    return subprocess.run(  # from the repository's root: the command of this tree
        [sys.executable, "-m", "emplettes.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
        check=False,
    )


def add_user(config, email: str, chamber: str, role: str = "admin", password: str = PASSWORD) -> None:
    done = emplettes(
        config, "users", "add", email, "--chamber", chamber, "--role", role, stdin=f"{password}\n{password}\n"
    )
    assert done.returncode == 0, done.stderr


def chamber_data(data_dir: Path, **settings: Any):
    """The Config of ``data_dir`` filled with the two chambers' registry, runs, index and accounts."""
    from config import Config
    from indexer.jobs import index_runs
    from indexer.state import IndexState

    sources = data_dir / "sources.yaml"
    sources.write_text(REGISTRY, encoding="utf-8")
    config = Config(data_dir=data_dir / "data", sources_file=sources, **settings)
    write_runs(config.runs_dir)
    index_runs(config, out=open(os.devnull, "w"))  # noqa: SIM115
    with IndexState(config.state_db) as state:  # as the scheduler records it
        state.set_next_run("senteurs-loire", "daily", datetime.now(UTC) + timedelta(hours=3, minutes=30))
    add_user(config, TOURAINE_ADMIN, "cci-touraine", "admin")
    add_user(config, TOURAINE_EDITOR, "cci-touraine", "editor")
    add_user(config, LOIRET_ADMIN, "cci-loiret", "admin")
    return config


@contextmanager
def chamber_portal(data_dir: Path, **settings: Any) -> Iterator[tuple[str, Any, Any]]:
    """``(base URL, app, config)`` of the real portal over the two chambers' data."""
    from portal import create_app
    from portal.server import serving_in_thread

    config = chamber_data(data_dir, **settings)
    app = create_app(config)
    with serving_in_thread(app) as url:
        yield url, app, config


_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def login(base: str, email: str, password: str = PASSWORD) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/chambre/connexion", timeout=30)
    answer = session.post(
        f"{base}/chambre/connexion",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return session


def post_form(session: requests.Session, base: str, page_path: str, action: str, data: dict | None = None):
    """Submit a form of ``page_path`` with that page's CSRF token."""
    page = session.get(base + page_path, timeout=30)
    return session.post(
        base + action, data={"csrf_token": csrf_token(page.text), **(data or {})}, timeout=60, allow_redirects=False
    )
