"""``emplettes users``: accounts of the chambers' dashboard, from the real command line;
the ``chamber:`` field of the registry; the scheduler taking the dashboard's crawl requests."""

from __future__ import annotations

import json
import sqlite3
import sys
import time

import pytest
from chamber_portal import emplettes

from config import Config

PASSWORD = "un mot de passe assez long"


@pytest.fixture
def config(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n", encoding="utf-8")
    return Config(data_dir=tmp_path / "data", sources_file=sources)


def test_users_add_reads_the_password_from_stdin_and_stores_only_its_argon2_hash(config):
    done = emplettes(config, "users", "add", "Agent@CCI.fr", "--chamber", "cci-touraine", stdin=f"{PASSWORD}\n")
    assert done.returncode == 0, done.stderr
    assert "agent@cci.fr" in done.stdout and PASSWORD not in done.stdout + done.stderr
    listing = emplettes(config, "users", "list", "--json")
    (user,) = [json.loads(line) for line in listing.stdout.splitlines()]
    assert user["email"] == "agent@cci.fr" and user["chamber"] == "cci-touraine" and user["role"] == "editor"
    stored = (config.data_dir / "users.sqlite3").read_bytes()
    assert PASSWORD.encode() not in stored
    with sqlite3.connect(config.data_dir / "users.sqlite3") as db:
        (hashed,) = db.execute("SELECT hash FROM users").fetchone()
    assert hashed.startswith("$argon2id$")
    assert (config.data_dir / "users.sqlite3").stat().st_mode & 0o077 == 0


def test_a_password_is_never_an_argument(config):
    done = emplettes(config, "users", "add", "a@b.fr", "--chamber", "c", "--password", PASSWORD)
    assert done.returncode == 2 and "--password" in done.stderr


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (f"{PASSWORD}\nautre chose\n", "diffèrent"),
        ("court\n", "au moins 10 caractères"),
        ("", "au moins 10 caractères"),
    ],
)
def test_a_mismatched_or_short_password_is_refused_in_french(config, stdin, message):
    done = emplettes(config, "users", "add", "a@b.fr", "--chamber", "c", stdin=stdin)
    assert done.returncode == 2 and message in done.stderr
    assert emplettes(config, "users", "list", "--json").stdout == ""


def test_users_remove_and_reset_password_are_journaled(config):
    from portal.chambre.accounts import open_accounts

    assert (
        emplettes(config, "users", "add", "a@b.fr", "--chamber", "cci-x", "--role", "admin", stdin=PASSWORD).returncode
        == 0
    )
    again = emplettes(config, "users", "add", "a@b.fr", "--chamber", "cci-x", stdin=PASSWORD)
    assert again.returncode == 2 and "existe déjà" in again.stderr
    new = "encore un autre mot de passe"
    assert emplettes(config, "users", "reset-password", "a@b.fr", stdin=f"{new}\n{new}\n").returncode == 0
    with open_accounts(config.data_dir) as accounts:
        assert accounts.authenticate("a@b.fr", new) is not None
        assert accounts.authenticate("a@b.fr", PASSWORD) is None
    assert emplettes(config, "users", "remove", "a@b.fr").returncode == 0
    missing = emplettes(config, "users", "remove", "a@b.fr")
    assert missing.returncode == 2 and "aucun compte" in missing.stderr
    with open_accounts(config.data_dir) as accounts:
        actions = [e.action for e in accounts.journal("cci-x")]
    assert actions == ["compte supprimé", "mot de passe réinitialisé", "compte créé"]


# -- the registry's chamber ------------------------------------------------------------------


def test_the_chamber_comes_from_the_entry_or_the_defaults(tmp_path):
    from crawler.registry import parse_registry

    registry = parse_registry(
        "defaults:\n  chamber: cci-touraine\nsources:\n"
        "  - {id: a, name: A, url: 'https://a.fr/', town: Tours, postcode: '37000'}\n"
        "  - {id: b, name: B, url: 'https://b.fr/', town: Orléans, postcode: '45000', chamber: cci-loiret}\n"
    )
    assert [s.chamber for s in registry.sources] == ["cci-touraine", "cci-loiret"]


def test_a_malformed_chamber_is_reported_at_its_line(tmp_path):
    from crawler.registry import RegistryError, parse_registry

    with pytest.raises(RegistryError) as caught:
        parse_registry(
            "sources:\n  - id: a\n    name: A\n    url: https://a.fr/\n    town: Tours\n"
            "    postcode: '37000'\n    chamber: CCI Touraine\n",
            "sources.yaml",
        )
    (problem,) = caught.value.problems
    assert problem.startswith("sources.yaml:7: chamber : "), problem


def test_sources_list_prints_each_entry_with_its_chamber(config):
    config.sources_file.write_text(
        "defaults:\n  chamber: cci-touraine\nsources:\n"
        "  - {id: a, name: A, url: 'https://a.fr/', town: Tours, postcode: '37000'}\n",
        encoding="utf-8",
    )
    done = emplettes(config, "sources", "list", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chamber"] == "cci-touraine"


# -- the scheduler takes the dashboard's requests ----------------------------------------------


def test_the_scheduler_starts_a_requested_crawl_at_its_next_poll(tmp_path):
    """The real scheduler, with a stand-in crawl command that leaves a marker."""
    from emplettes.scheduler import CrawlScheduler

    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - {id: a, name: A, url: 'https://a.fr/', town: Tours, postcode: '37000', schedule: weekly}\n",
        encoding="utf-8",
    )
    config = Config(data_dir=tmp_path / "data", sources_file=sources, schedule_jitter=0)
    command = [sys.executable, "-c", f"open({str(tmp_path)!r} + '/crawled-' + '{{source}}', 'w').close()"]
    scheduler = CrawlScheduler(config, poll=0.2, first_run_spread=100_000, crawl_command=command)
    scheduler.start()
    try:
        scheduler.tick()
        assert not (tmp_path / "crawled-a").exists(), "not due before a week"
        config.crawl_requests_dir.mkdir(parents=True, exist_ok=True)
        (config.crawl_requests_dir / "a.json").write_text('{"by": "agent@cci.fr"}')
        (config.crawl_requests_dir / "inconnue.json").write_text("{}")
        scheduler.tick()
        deadline = time.monotonic() + 30
        while not (tmp_path / "crawled-a").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        scheduler.stop()
    assert (tmp_path / "crawled-a").exists()
    assert list(config.crawl_requests_dir.iterdir()) == [], "requests are taken, unknown ones dropped"
