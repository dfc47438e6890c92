"""The README is the operator's manual: every setting and every command is in it."""

from __future__ import annotations

import argparse
from pathlib import Path

from config import SETTINGS
from emplettes.cli import build_parser

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_configuration_table():
    missing = [
        name
        for name in SETTINGS
        if f"| `{name}`" not in README and f"`{name}` /" not in README and f"/ `{name}`" not in README
    ]
    assert not missing, f"settings missing from README's configuration table: {missing}"


def test_every_command_is_in_the_command_table():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    missing = [name for name in subparsers.choices if f"| `emplettes {name}" not in README]
    assert not missing, f"commands missing from README's command table: {missing}"
