"""Every command and subcommand, given what a hurried or hostile user gives it: missing files,
directories, empty strings, bytes that are not UTF-8, unreachable hosts, a reader that hangs
up. Each runs as a real subprocess and must end with 0 (all went well), 1 (a problem was
found) or 2 (the command was used wrongly), with no traceback, saying what went wrong in
French.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from loopback import closed_port

ROOT = Path(__file__).resolve().parents[1]

# A few words that only a French sentence has: the message is in French, not merely accented.
FRENCH = re.compile(
    r"\b(est|pas|aucun|aucune|inconnu|inconnue|introuvable|erreur|dossier|fichier|injoignable|précisez|"
    r"invalide|identifiant|problèmes?|refusée|attendu|valeur|rien|lecture|octet|existe|vide|manque|doit|doivent)\b"
)


@pytest.fixture(scope="module")
def place(tmp_path_factory) -> dict[str, str]:
    """The files the commands are given, by name."""
    root = tmp_path_factory.mktemp("hostile-cli")
    (root / "data").mkdir()
    (root / "a-directory").mkdir()
    shutil.copy(ROOT / "sources.yaml", root / "good.yaml")
    (root / "bad-bytes.yaml").write_bytes(b"sources:\n  - id: caf\xe9\n    name: \xff\xfe\x00\n")
    (root / "bad-indent.yaml").write_text(
        'sources:\n  - id: a\n    name: A\n  url: https://a.example.fr/\n    town: Tours\n    postcode: "37000"\n'
    )
    (root / "empty.yaml").write_text("")
    (root / "a-file").write_text("not a directory\n")
    (root / "binary.html").write_bytes(bytes(range(256)) * 4)
    (root / "bad-bytes.csv").write_bytes(b"\xff\xfe\x00N\x00o\x00m\x00\n\x81\x8d\x8f\x90\x9d\n")
    (root / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (root / "empty.csv").write_text("")
    (root / "unreachable.csv").write_text("nom;site;ville;cp\nFantôme;http://boutique-fantome.invalid/;Tours;37000\n")
    (root / "garbage.jsonl").write_bytes(b"\xff{not json\n\x00\x00\n")
    return {p.name: str(p) for p in root.iterdir()} | {"root": str(root), "missing": str(root / "missing.yaml")}


CLOSED = f"http://127.0.0.1:{closed_port()}/"
DNS = "http://boutique-qui-n-existe-pas.invalid/"

# (id, arguments, environment; "{name}" is a file of `place`, "{registry}" a fresh copy of the
# bundled registry for commands that write), expected status (None: any of 0, 1, 2).
CASES: list[tuple[str, list[str], dict[str, str], int | None]] = [
    ("no-command", [], {}, 2),
    ("unknown-command", ["nope"], {}, 2),
    ("unknown-option", ["status", "--nope"], {}, 2),
    ("help", ["--help"], {}, 0),
    ("demo-port-not-a-number", ["demo", "--port", "huit"], {}, 2),
    ("demo-port-out-of-range", ["demo", "--no-serve", "--sites-port", "99999"], {}, 2),
    ("crawl-unknown-source", ["crawl", "--source", "nope"], {}, 2),
    ("crawl-empty-source", ["crawl", "--source", ""], {}, 2),
    ("crawl-missing-registry", ["crawl"], {"SOURCES_FILE": "{missing}"}, 1),
    ("crawl-registry-is-a-directory", ["crawl"], {"SOURCES_FILE": "{a-directory}"}, 1),
    ("crawl-registry-bad-bytes", ["crawl"], {"SOURCES_FILE": "{bad-bytes.yaml}"}, 1),
    ("index-missing-file", ["index", "{missing}"], {}, 2),
    ("index-directory", ["index", "{a-directory}"], {}, 2),
    ("index-empty-string", ["index", ""], {}, 2),
    ("index-garbage", ["index", "{garbage.jsonl}"], {}, None),
    ("index-data-dir-is-a-file", ["index"], {"DATA_DIR": "{a-file}"}, 1),
    ("status-unknown-source", ["status", "--runs", "nope"], {}, 2),
    ("status-empty-source", ["status", "--runs", ""], {}, 2),
    ("status-data-dir-is-a-file", ["status"], {"DATA_DIR": "{a-file}"}, 1),
    ("status-registry-bad-bytes", ["status", "--json"], {"SOURCES_FILE": "{bad-bytes.yaml}"}, None),
    ("reindex-data-dir-is-a-file", ["reindex"], {"DATA_DIR": "{a-file}"}, 1),
    (
        "reindex-unreachable-elasticsearch",
        ["reindex"],
        {"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": CLOSED.rstrip("/")},
        1,
    ),
    ("serve-negative-port", ["serve", "--port", "-1"], {}, 2),
    ("serve-no-worker", ["serve", "--workers", "0"], {}, 2),
    ("serve-bad-host", ["serve", "--host", "256.256.256.256", "--port", str(closed_port())], {}, 1),
    ("sources-no-subcommand", ["sources"], {}, 2),
    ("validate-missing", ["sources", "validate", "{missing}"], {}, 1),
    ("validate-directory", ["sources", "validate", "{a-directory}"], {}, 1),
    ("validate-empty-string", ["sources", "validate", ""], {}, 1),
    ("validate-bad-bytes", ["sources", "validate", "{bad-bytes.yaml}"], {}, 1),
    ("validate-bad-indentation", ["sources", "validate", "{bad-indent.yaml}"], {}, 1),
    ("validate-empty-file", ["sources", "validate", "{empty.yaml}"], {}, 1),
    ("add-empty-address", ["sources", "add", "", "--file", "{registry}"], {}, 1),
    (
        "add-unknown-host",
        ["sources", "add", DNS, "--file", "{registry}", "--town", "Tours", "--postcode", "37000"],
        {},
        1,
    ),
    ("add-refused", ["sources", "add", CLOSED, "--file", "{registry}", "--allow-private"], {}, 1),
    ("add-registry-is-a-directory", ["sources", "add", CLOSED, "--file", "{a-directory}"], {}, 1),
    ("add-registry-bad-bytes", ["sources", "add", CLOSED, "--file", "{bad-bytes.yaml}"], {}, 1),
    ("add-bad-kind", ["sources", "add", CLOSED, "--kind", "magento"], {}, 2),
    ("import-missing", ["sources", "import", "{missing}", "--file", "{registry}"], {}, 2),
    ("import-directory", ["sources", "import", "{a-directory}", "--file", "{registry}"], {}, 2),
    ("import-empty-string", ["sources", "import", "", "--file", "{registry}"], {}, 2),
    ("import-bad-bytes", ["sources", "import", "{bad-bytes.csv}", "--file", "{registry}"], {}, 2),
    ("import-broken-xlsx", ["sources", "import", "{broken.xlsx}", "--file", "{registry}"], {}, 2),
    ("import-empty-list", ["sources", "import", "{empty.csv}", "--file", "{registry}"], {}, 2),
    ("import-unreachable-shop", ["sources", "import", "{unreachable.csv}", "--file", "{registry}"], {}, 1),
    ("import-registry-bad-bytes", ["sources", "import", "{unreachable.csv}", "--file", "{bad-bytes.yaml}"], {}, 1),
    ("clicks-unknown-shop", ["clicks", "--shop", "nope"], {}, 2),
    ("clicks-bad-date", ["clicks", "--since", "2026-13-45"], {}, 2),
    ("clicks-data-dir-is-a-file", ["clicks"], {"DATA_DIR": "{a-file}"}, None),
    ("check-empty-string", ["check", ""], {}, None),
    ("check-directory", ["check", "{a-directory}"], {}, None),
    ("check-missing-file", ["check", "{missing}"], {}, None),
    ("check-unknown-host", ["check", DNS], {}, None),
    ("check-binary-file", ["check", "{binary.html}"], {}, None),
    ("sources-list-bad-bytes", ["sources", "list", "--json"], {"SOURCES_FILE": "{bad-bytes.yaml}"}, 1),
    ("users-no-subcommand", ["users"], {}, 2),
    ("users-add-no-chamber", ["users", "add", "a@exemple.fr"], {}, 2),
    ("users-add-empty-password", ["users", "add", "a@exemple.fr", "--chamber", "cci-touraine"], {}, 2),
    ("users-list-data-dir-is-a-file", ["users", "list"], {"DATA_DIR": "{a-file}"}, 1),
    ("users-remove-unknown", ["users", "remove", "personne@exemple.fr"], {}, 2),
    ("users-reset-password-unknown", ["users", "reset-password", "personne@exemple.fr"], {}, 2),
    ("setting-not-a-number", ["status"], {"PORT": "huit-mille"}, 2),
    ("language-without-catalogue", ["status"], {"EMPLETTES_LANG": "xx"}, 2),
]


def _fill(text: str, place: dict[str, str], registry: Path) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(registry) if m.group(1) == "registry" else place[m.group(1)], text)


def emplettes(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
        **kwargs,
    )


def base_env(place: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("EMPLETTES_LANG", "SEARCH_BACKEND", "PORT")}
    return {**env, "DATA_DIR": place["data"], "SOURCES_FILE": place["good.yaml"]}


@pytest.mark.parametrize(("args", "env", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_command_given_hostile_arguments_answers_in_french_without_a_traceback(
    place, tmp_path, request, args, env, expected
):
    registry = tmp_path / "sources.yaml"
    shutil.copy(place["good.yaml"], registry)
    before = registry.read_bytes()
    environment = base_env(place) | {k: _fill(v, place, registry) for k, v in env.items()}
    result = emplettes([_fill(a, place, registry) for a in args], environment, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert "Exception ignored" not in output, output
    assert result.returncode in (0, 1, 2), output
    if expected is not None:
        assert result.returncode == expected, output
    if result.returncode:
        assert FRENCH.search(output), f"not French: {output!r}"
    assert registry.read_bytes() == before, "a failed command leaves the registry as it was"


def test_a_wrong_indentation_gets_its_line_and_a_hint(place):
    result = emplettes(["sources", "validate", place["bad-indent.yaml"]], base_env(place))
    assert result.returncode == 1
    assert (
        f"{place['bad-indent.yaml']}:4: yaml : l'indentation ne correspond pas à l'entrée précédente ?" in result.stderr
    )


def test_a_reader_that_hangs_up_ends_the_command_quietly(place):
    """``emplettes status --json | head -c1``: the pipe is closed before the command writes."""
    for args in (["status", "--json"], ["status"], ["--help"], ["sources", "validate"]):
        process = subprocess.Popen(
            [sys.executable, "-m", "emplettes.cli", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=base_env(place),
        )
        process.stdout.close()  # the reader is gone
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, (args, err)
        assert b"Traceback" not in err and b"Exception ignored" not in err and b"BrokenPipe" not in err, err


def test_the_scheduler_without_a_registry_waits_says_so_and_stops_cleanly(place, tmp_path):
    env = base_env(place) | {"SOURCES_FILE": place["missing"], "DATA_DIR": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "emplettes.cli", "schedule"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    heartbeat = tmp_path / "scheduler.json"
    deadline = time.monotonic() + 60
    while not heartbeat.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode in (0, 1, 2), err
    assert "Traceback" not in err
    assert str(place["missing"]) in err
    assert "aucun registre valide pour l'instant : en attente de la correction de" in err


def test_status_index_and_reindex_report_in_french_on_a_fresh_data_directory(place, tmp_path):
    env = base_env(place) | {"DATA_DIR": str(tmp_path / "data")}
    status = emplettes(["status"], env)
    assert status.returncode == 0, status.stderr
    lines = status.stdout.splitlines()
    assert " ".join(lines[0].split()) == "SOURCE DERNIÈRE COLLECTE RÉSULTAT PAGES PRODUITS ERREURS INDEXÉE PROCHAINE"
    assert lines[1].split()[1:] == ["jamais", "—", "—"]  # never crawled, no next run
    assert lines[-1].startswith("planificateur : jamais démarré (lancez `emplettes schedule`")

    nothing = emplettes(["index"], env)
    assert nothing.returncode == 0
    assert nothing.stderr.strip() == "rien à indexer : chaque collecte terminée est déjà dans l'index"

    garbage = emplettes(["index", place["garbage.jsonl"]], env)
    assert garbage.returncode == 0, garbage.stderr
    assert "0 fiche (0 produit, 0 boutique), 2 rejetées, 0 ancienne retirée [inachevée]" in garbage.stderr
    assert "garbage.jsonl:1 : JSON invalide" in garbage.stderr
    assert "1 collecte indexée, 0 produit" in garbage.stderr


def test_an_unreachable_index_is_one_french_line_and_the_index_unchanged(place, tmp_path):
    env = base_env(place) | {"SEARCH_BACKEND": "elasticsearch", "ELASTICSEARCH_URL": CLOSED.rstrip("/")}
    result = emplettes(["reindex"], env)
    assert result.returncode == 1
    assert (
        f"index de recherche indisponible (Elasticsearch injoignable à {CLOSED.rstrip('/')} : connexion refusée)"
        in (result.stderr)
    )
    assert "l'index actuel n'a pas changé" in result.stderr


def _commands(parser, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every command and subcommand of the parser, as argument tuples."""
    import argparse

    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.add((*prefix, name))
                found |= _commands(sub, (*prefix, name))
    return found


def test_the_hostile_cases_cover_every_command_and_subcommand():
    from emplettes.cli import build_parser

    covered = [tuple(args) for _id, args, _env, _status in CASES] + [("schedule",)]  # the scheduler: its own test
    missing = [
        " ".join(command)
        for command in sorted(_commands(build_parser()))
        if not any(case[: len(command)] == command for case in covered)
    ]
    assert missing == [], f"commands without a hostile case in CASES: {missing}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["status", "--runs", "brulerie"],
            "status --runs : identifiant inconnu « brulerie » ; voulez-vous dire brulerie-des-halles ?",
        ),
        (["clicks", "--shop", "cave-du-vieux-chinnon"], "voulez-vous dire cave-du-vieux-chinon ?"),
        (
            ["crawl", "--source", "fromagerie"],
            "crawl --source : identifiant inconnu « fromagerie » ; voulez-vous dire fromagerie-du-donjon ?",
        ),
    ],
)
def test_an_unknown_id_is_a_usage_error_that_suggests_the_registered_one(place, args, expected):
    result = emplettes(args, base_env(place))
    assert result.returncode == 2 and expected in result.stderr, result.stderr
    assert result.stdout == ""
