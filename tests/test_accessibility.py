"""axe-core, run in the real headless Chromium, finds no serious or critical violation on
the pages residents use: home, results (plain, filtered, empty), a shop, the directory.

axe-core is the npm package pinned in tools/package-lock.json (``make tools``), the same
toolchain as Lighthouse; it is injected through the DevTools protocol so the page's strict
CSP stays in force. Every violation found, whatever its impact, is printed with its nodes
and written to artifacts/accessibility/ for a human to read.
"""

from __future__ import annotations

import json

import pytest
from browser import ROOT, describe_violations, open_tab, run_axe

pytestmark = pytest.mark.browser

REPORTS = ROOT / "artifacts" / "accessibility"
PAGES = {
    "home": "/",
    "results": "/recherche?q=bougie",
    "results-filtered": "/recherche?town=Tours&availability=in_stock&per_page=4",
    "results-empty": "/recherche?q=zzzinconnu",
    "shop": "/boutique/senteurs-loire",
    "directory": "/boutiques",
}
BLOCKING = {"serious", "critical"}


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", PAGES)
def test_no_serious_accessibility_violation(browser, portal_url, name, viewport):
    tab = open_tab(browser, portal_url, viewport, PAGES[name])
    try:
        if viewport == "phone" and tab.page.locator("#filtres-panneau > summary").count():
            tab.page.locator("#filtres-panneau > summary").click()  # check the folded filters too
        violations = run_axe(tab.page)
    finally:
        tab.close()
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}-{viewport}.json").write_text(json.dumps(violations, indent=1, ensure_ascii=False))
    if violations:
        print(f"axe on {PAGES[name]} ({viewport}):\n{describe_violations(violations)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe on {PAGES[name]} ({viewport}):\n{describe_violations(blocking)}"
