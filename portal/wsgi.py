"""The portal as a WSGI application for any production server, configured by the environment.

    gunicorn --workers 2 --bind 127.0.0.1:8000 portal.wsgi:app

Each worker process builds its own app and opens the index itself on the first request
(so do not pass ``--preload``: a search index opened before the fork would be shared
by every worker). docs/operations.md says which server shape to run, and why.
"""

from __future__ import annotations

from portal import create_app
from portal.server import settled

app = settled(create_app())
