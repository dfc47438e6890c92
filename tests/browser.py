"""Driving the portal in a real headless Chromium: the shared browser, tabs, and tools.

Uses the system Chromium (the Playwright browser download does not work everywhere).
Elsewhere the browser tests skip with the reason; under CI (``CI`` set) a missing
Chromium or axe-core fails instead, so the browser-quality bars are really checked there.
Set CHROMIUM_PATH to point at another build.

Test modules take what they need (``from browser import Tab``); the ``browser`` fixture
itself is in conftest.py: one Chromium per test process, shared by every module.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE_SCRIPT = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}  # a cheap Android phone
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


def find_chromium() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), shutil.which("chromium"), shutil.which("chromium-browser")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def skip_or_fail(reason: str):
    """Skip on a developer's machine that lacks a tool; fail in CI, which installs them all."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run the browser tests: see .ci/run)", pytrace=False)
    pytest.skip(reason)


def _placeholder(route):
    """Shop images live on the shops' hosts: answer with a tinted square, offline."""
    hue = zlib.crc32(route.request.url.encode()) % 360
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400">'
        f'<rect width="400" height="400" fill="hsl({hue},45%,84%)"/>'
        f'<circle cx="200" cy="200" r="90" fill="hsl({hue},40%,64%)"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


class Tab:
    """A page that records dialogs, CSP violations and page errors, and never leaves
    127.0.0.1 (shop images are stubbed, anything else is refused)."""

    def __init__(self, browser, base: str, width: int, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.base = base
        self.dialogs: list[str] = []
        self.problems: list[str] = []
        self.page.on("dialog", self._on_dialog)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("console", self._on_console)
        self.page.route("**/*", self._route)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _on_console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base):
            route.continue_()
        elif route.request.resource_type == "image":
            _placeholder(route)
        else:
            route.abort()

    def goto(self, path: str):
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, path
        return response

    def params(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.page.url).query)

    def no_horizontal_scroll(self) -> bool:
        return self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    def screenshot(self, name: str) -> Path:
        """A full-page PNG in artifacts/screenshots/ for a human to look at."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        assert not self.dialogs, f"a dialog fired: {self.dialogs}"
        assert not self.problems, self.problems
        self.context.close()


def wait_until_true(page, expression: str, tries: int = 150) -> None:
    """Poll ``expression`` from the test's side until it is true. Playwright's
    ``wait_for_function`` polls with an eval inside the page, which the portal's CSP
    (no 'unsafe-eval') refuses whenever the first try is false."""
    for _ in range(tries):
        if page.evaluate(expression):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"never true: {expression}")


def open_tab(browser, base: str, viewport: str, path: str) -> Tab:
    """A :class:`Tab` of ``viewport`` size ("desktop" or "phone") on ``path``, loaded."""
    size = VIEWPORTS[viewport]
    tab = Tab(browser, base, size["width"], size["height"])
    tab.goto(path)
    tab.page.wait_for_load_state("load")
    return tab


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8")


def run_axe(page, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice")) -> list[dict]:
    """axe-core's violations on the page as loaded (injected through the DevTools protocol,
    which the page's CSP does not govern)."""
    if not AXE_SCRIPT.exists():
        skip_or_fail(f"axe-core is not installed ({AXE_SCRIPT.relative_to(ROOT)}): run `npm ci --prefix tools`")
    page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    results = page.evaluate(f"axe.run(document, {json.dumps(options)})")
    return results["violations"]


def describe_violations(violations: list[dict]) -> str:
    """One block per rule with each offending node's selector and axe's summary of the fix."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))} :: {node['html'][:160]} :: {summary[:240]}")
    return "\n".join(lines)


def first_marker_popup(page):
    """Click the map's first marker; its popup, once open."""
    page.locator(".map--ready .leaflet-interactive").first.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    return popup


def assert_popup_shows_the_hostile_shop_as_text(page) -> None:
    """The popup of portal_samples' hostile shop: its name as text, a link to its page only."""
    popup = first_marker_popup(page)
    assert popup.inner_text().splitlines()[0] == "Atelier <img src=x onerror=alert(1)>"
    assert popup.locator("img").count() == 0
    assert popup.locator("a").get_attribute("href") == "/boutique/atelier-hostile"
