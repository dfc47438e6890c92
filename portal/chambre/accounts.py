"""Dashboard accounts, their sessions and the journal of changes: ``DATA_DIR/users.sqlite3``.

- Passwords are hashed with argon2id (argon2-cffi's defaults); only the hash is stored.
  A login for an unknown address still verifies a hash, so both answers take as long.
- Sessions live here, server side: the cookie carries only a random id (signed by Flask).
  Logging in always makes a new id (no fixation), logging out deletes it, and removing an
  account or resetting its password ends its sessions. A session expires ``lifetime`` after
  its login.
- The journal (``audit``) records who did what and when: account changes from the command
  line, logins, crawl requests, sources added. It is only ever appended to.

Used by the portal (login, journal) and by ``emplettes users`` (which sits above it).
WAL mode: the command line may add an account while portals read.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

FILENAME = "users.sqlite3"
ROLES = ("admin", "editor")
MIN_PASSWORD = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    email      TEXT PRIMARY KEY,     -- lowercase
    chamber    TEXT NOT NULL,
    role       TEXT NOT NULL,
    hash       TEXT NOT NULL,        -- argon2id
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,     -- secrets.token_urlsafe(32)
    email      TEXT NOT NULL REFERENCES users(email) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,           -- an account's email, or 'ligne de commande'
    chamber TEXT,                    -- whose journal shows it
    action  TEXT NOT NULL,           -- e.g. 'connexion', 'collecte demandée'
    target  TEXT NOT NULL DEFAULT '',
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_chamber ON audit (chamber, id);
"""

_hasher = PasswordHasher()
# Verified when the address is unknown, so a wrong address costs the same time as a wrong password.
_DECOY = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """An account cannot be added or changed; the message says why, in French."""


@dataclass(frozen=True)
class User:
    email: str
    chamber: str
    role: str
    created_at: str


@dataclass(frozen=True)
class AuditEntry:
    at: str
    actor: str
    chamber: str | None
    action: str
    target: str
    detail: str


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def normal_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"le mot de passe doit compter au moins {MIN_PASSWORD} caractères")


class Accounts:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        # Password hashes: the owner's eyes only (a file of another system user is left as it is).
        with contextlib.suppress(PermissionError):
            self.path.chmod(0o600)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Accounts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- accounts ------------------------------------------------------------------------

    def add(self, email: str, chamber: str, role: str, password: str, *, actor: str) -> User:
        email = normal_email(email)
        if "@" not in email or len(email) > 254:
            raise AccountError(f"{email!r} n'est pas une adresse électronique")
        if role not in ROLES:
            raise AccountError(f"rôle inconnu {role!r} (admin ou editor)")
        if not chamber.strip():
            raise AccountError("la chambre est obligatoire")
        check_password(password)
        created = _iso(_now())
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)", (email, chamber, role, _hasher.hash(password), created)
                )
            except sqlite3.IntegrityError:
                raise AccountError(f"le compte {email} existe déjà") from None
        self.record(actor, chamber, "compte créé", email, f"rôle {role}")
        return User(email, chamber, role, created)

    def get(self, email: str) -> User | None:
        with self._lock:
            row = self._db.execute(
                "SELECT email, chamber, role, created_at FROM users WHERE email = ?", (normal_email(email),)
            ).fetchone()
        return User(*row) if row else None

    def list(self) -> list[User]:
        with self._lock:
            rows = self._db.execute("SELECT email, chamber, role, created_at FROM users ORDER BY chamber, email")
            return [User(*row) for row in rows]

    def remove(self, email: str, *, actor: str) -> None:
        user = self._require(email)
        with self._lock:
            self._db.execute("DELETE FROM users WHERE email = ?", (user.email,))
        self.record(actor, user.chamber, "compte supprimé", user.email)

    def reset_password(self, email: str, password: str, *, actor: str) -> None:
        user = self._require(email)
        check_password(password)
        with self._lock:
            self._db.execute("UPDATE users SET hash = ? WHERE email = ?", (_hasher.hash(password), user.email))
            self._db.execute("DELETE FROM sessions WHERE email = ?", (user.email,))
        self.record(actor, user.chamber, "mot de passe réinitialisé", user.email)

    def _require(self, email: str) -> User:
        user = self.get(email)
        if user is None:
            raise AccountError(f"aucun compte {normal_email(email)}")
        return user

    def authenticate(self, email: str, password: str) -> User | None:
        """The account when the password is right; None otherwise (unknown or wrong alike)."""
        email = normal_email(email)
        with self._lock:
            row = self._db.execute("SELECT hash FROM users WHERE email = ?", (email,)).fetchone()
        try:
            _hasher.verify(row[0] if row else _DECOY, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        if _hasher.check_needs_rehash(row[0]):
            with self._lock:
                self._db.execute("UPDATE users SET hash = ? WHERE email = ?", (_hasher.hash(password), email))
        return self.get(email)

    # -- sessions ------------------------------------------------------------------------

    def open_session(self, user: User, lifetime: timedelta) -> str:
        session_id = secrets.token_urlsafe(32)
        now = _now()
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE expires_at < ?", (_iso(now),))
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?)", (session_id, user.email, _iso(now), _iso(now + lifetime))
            )
        return session_id

    def session_user(self, session_id: str) -> User | None:
        """The account of a live session; None when unknown, ended or expired."""
        with self._lock:
            row = self._db.execute(
                "SELECT u.email, u.chamber, u.role, u.created_at FROM sessions s JOIN users u ON u.email = s.email "
                "WHERE s.id = ? AND s.expires_at > ?",
                (session_id, _iso(_now())),
            ).fetchone()
        return User(*row) if row else None

    def close_session(self, session_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- the journal ---------------------------------------------------------------------

    def record(self, actor: str, chamber: str | None, action: str, target: str = "", detail: str = "") -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audit (at, actor, chamber, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (_iso(_now()), actor, chamber, action, target, detail),
            )

    def journal(self, chamber: str | None = None, limit: int = 200) -> list[AuditEntry]:
        """Newest first: one chamber's entries, or all of them."""
        sql = "SELECT at, actor, chamber, action, target, detail FROM audit"
        args: list[object] = []
        if chamber is not None:
            sql += " WHERE chamber = ?"
            args.append(chamber)
        sql += " ORDER BY id DESC LIMIT ?"
        args.append(limit)
        with self._lock:
            return [AuditEntry(*row) for row in self._db.execute(sql, args)]


def open_accounts(data_dir: Path) -> Accounts:
    return Accounts(Path(data_dir) / FILENAME)
