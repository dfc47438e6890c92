"""The key that signs the dashboard's cookies and CSRF tokens.

``SECRET_KEY`` when set; otherwise a random key generated once into ``DATA_DIR/secret_key``
(mode 0600), created atomically so that several portal processes starting together end up
with the same key. There is no built-in default: a key written in the code is a key
everybody knows.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

FILENAME = "secret_key"


def secret_key(configured: str, data_dir: Path) -> str:
    if configured.strip():
        return configured.strip()
    path = Path(data_dir) / FILENAME
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: a process reading it never sees it half written,
        # and of two processes starting together the second's link fails and it reads the first's key.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it, or set SECRET_KEY")
    return key
