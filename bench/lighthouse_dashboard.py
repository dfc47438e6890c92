"""Lighthouse scores of the chambers' dashboard and of the shop mirror, beside the portal's
home page measured in the same run (the reference: bench/lighthouse.py's targets).

    .venv/bin/python bench/lighthouse_dashboard.py                  # mobile (Lighthouse's default)
    .venv/bin/python bench/lighthouse_dashboard.py --preset desktop

Builds the dashboard tests' data (tests/chamber_portal.py: two chambers, runs loaded by the
real indexer, accounts made by `emplettes users add`) in a temporary folder, starts the
portal with `emplettes serve`, logs in through the login form and hands the session cookie
to Lighthouse (``--extra-headers``), then audits the login page, each dashboard page and
``/ma-boutique``. Targets (issue #20): accessibility and best practices >= 95 on every page.
Exits 1 when one is missed. Needs Chromium (CHROME_PATH, default /usr/bin/chromium) and Node.js.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from lighthouse import CATEGORIES, LIGHTHOUSE, audit, free_port, lost_points, start_portal  # noqa: E402

TARGETS = {"accessibility": 95, "best-practices": 95}
PAGES = {
    "home (reference)": ("/", False),
    "login": ("/chambre/connexion", False),
    "sources": ("/chambre/", True),
    "source": ("/chambre/source/epicerie-berry", True),
    "quality": ("/chambre/qualite", True),
    "clicks": ("/chambre/clics", True),
    "add": ("/chambre/ajouter", True),
    "journal": ("/chambre/journal", True),
    "mirror": ("/ma-boutique", False),
}


def serve(config, port: int) -> subprocess.Popen:
    return start_portal(config.data_dir, port, sources_file=config.sources_file, probe="/ma-boutique")


def main() -> int:
    from chamber_portal import TOURAINE_ADMIN, chamber_data, login

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=["desktop"], help="Lighthouse's desktop preset (default: mobile)")
    parser.add_argument("--reports", type=Path, default=ROOT / "artifacts" / "lighthouse")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is not installed: run `make tools` (npm ci --prefix tools)")
    folder = Path(tempfile.mkdtemp(prefix="emplettes-lighthouse-chambre-"))
    config = chamber_data(folder)
    port = free_port()
    portal = serve(config, port)
    base = f"http://127.0.0.1:{port}"
    args.reports.mkdir(parents=True, exist_ok=True)
    missed = []
    try:
        session = login(base, TOURAINE_ADMIN)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        version = subprocess.run([str(LIGHTHOUSE), "--version"], capture_output=True, text=True).stdout.strip()
        print(f"Lighthouse {version}, {args.preset or 'mobile'}, portal {base} (waitress)")
        print(f"{'page':<18}{'perf':>6}{'a11y':>6}{'best':>6}{'seo':>6}  url")
        for name, (path, logged_in) in PAGES.items():
            out = args.reports / f"chambre-{name.split()[0]}-{args.preset or 'mobile'}.json"
            report = audit(base + path, args.preset, out, {"Cookie": cookie} if logged_in else None)
            scores = {c: round(100 * (report["categories"][c]["score"] or 0)) for c in CATEGORIES}
            print(f"{name:<18}" + "".join(f"{scores[c]:>6}" for c in CATEGORIES) + f"  {path}", flush=True)
            for line in lost_points(report):
                print(line)
            if report["finalDisplayedUrl"].split("?")[0] != (base + path).split("?")[0]:
                missed.append(f"{name}: redirected to {report['finalDisplayedUrl']}")
            if not name.startswith("home"):
                missed += [f"{name} {c} {scores[c]} < {t}" for c, t in TARGETS.items() if scores[c] < t]
    finally:
        portal.terminate()
        portal.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
