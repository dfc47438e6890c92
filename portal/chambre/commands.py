"""The ``emplettes`` command, run as a subprocess: how the web layer reads the registry,
previews a shop and appends it to ``sources.yaml``.

The portal never imports the crawler (tests/test_layers.py): fetching shop sites, detecting
their platform and editing the registry stay in the command line, which already does them
under the crawler's address guard. A subprocess also keeps any fetching out of the web
process and bounds it: each call has a total deadline, after which the child is killed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config import Config
from portal.i18n import _

CODE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding the portal, emplettes... packages


@dataclass
class CommandResult:
    returncode: int
    lines: list[dict[str, Any]]  # stdout's JSON lines
    errors: list[str]  # stderr's lines, for the user: the command's own explanations
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run_command(config: Config, args: list[str], *, timeout: float) -> CommandResult:
    """``emplettes ARGS`` with this portal's DATA_DIR and SOURCES_FILE, killed after ``timeout`` s."""
    env = {**os.environ, "DATA_DIR": str(config.data_dir), "SOURCES_FILE": str(config.sources_file)}
    # The command of the same tree as this portal, whatever the working directory.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(CODE_ROOT), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "emplettes.cli", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandResult(
            -1, [], [_("délai dépassé (%(seconds)d s) : le site répond trop lentement", seconds=timeout)], True
        )
    lines = []
    for line in done.stdout.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    # The command's own explanations, without its name in front ("check: ", "sources add: ").
    errors = [
        re.sub(r"^(check|sources add|emplettes) ?: ", "", line) for line in done.stderr.splitlines() if line.strip()
    ]
    return CommandResult(done.returncode, lines, errors)


def read_shop(config: Config, url: str, *, pages: int, timeout: float, allow_private: bool = False) -> dict[str, Any]:
    """What the portal reads at ``url`` (``emplettes check``, ``pages`` pages at most, killed
    after ``timeout`` s): kind, products, the shop, or the reasons it could not."""
    args = ["check", url, "--json", "--with-source", "--limit", str(max(1, pages))]
    if allow_private:
        args.append("--allow-private")
    result = run_command(config, args, timeout=max(1.0, timeout))
    source = next((line for line in result.lines if line.get("type") == "source"), {})
    products = [line for line in result.lines if line.get("type") == "product"]
    shops = [line for line in result.lines if line.get("type") == "shop"]
    failed = result.timed_out or (result.returncode not in (0, 1) and not products)
    return {
        "kind": source.get("kind"),
        "declared": source.get("products"),
        "products": products,
        "shop": next((s for s in shops if s.get("name")), None),
        "timed_out": result.timed_out,
        "failed": failed,
        "reasons": result.errors if failed else [],
    }


@dataclass
class RegistryView:
    sources: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # FILE:LINE: field: message, when it does not load

    def by_id(self, source_id: str) -> dict[str, Any] | None:
        return next((s for s in self.sources if s["id"] == source_id), None)

    def of_chamber(self, chamber: str) -> list[dict[str, Any]]:
        return [s for s in self.sources if s.get("chamber") == chamber]


class RegistryReader:
    """``emplettes sources list --json``, read again only when the file changes.

    While the file does not load (a chamber mid-edit), the last valid listing is kept and
    the problems are shown beside it, as the scheduler does.
    """

    def __init__(self, config: Config, timeout: float = 60.0) -> None:
        self.config = config
        self.timeout = timeout
        self._stamp: tuple[int, int] | None = None
        self._view = RegistryView()
        self._lock = threading.Lock()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = Path(self.config.sources_file).stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def read(self) -> RegistryView:
        with self._lock:
            stamp = self._file_stamp()
            if stamp is not None and stamp == self._stamp:
                return self._view
            result = run_command(self.config, ["sources", "list", "--json"], timeout=self.timeout)
            self._stamp = stamp  # a broken file is not read again until it changes
            if result.ok:
                self._view = RegistryView(result.lines)
            else:
                problems = result.errors or [_("le registre des sources ne se lit pas")]
                self._view = RegistryView(self._view.sources, problems)
            return self._view
