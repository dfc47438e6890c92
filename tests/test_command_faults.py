"""A misconfigured setting or Elasticsearch, or a bug: one clear line from the command, never a
traceback.

The commands run for real (``python -m emplettes.cli``) in a subprocess. Wrong addresses
need no server; the URL that reaches a server but not a cluster uses the shared one
(``ELASTICSEARCH_URL``). The shared server is the OSS build, without security: a bad API
key cannot be refused by it, so a small loopback stub answering 401 as Elasticsearch does
stands in for a secured cluster there.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_catalogue import on_elasticsearch


def reindex(data_dir: Path, url: str, **extra: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "SEARCH_BACKEND": "elasticsearch",
        "ELASTICSEARCH_URL": url,
        "ELASTICSEARCH_INDEX": "emplettes-faults",
        **extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "reindex"], capture_output=True, text=True, timeout=120, env=env
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    problem = [line for line in result.stderr.splitlines() if "indisponible" in line]
    assert len(problem) == 1, result.stderr
    for words in expected:
        assert words in problem[0], problem[0]
    assert "l'index actuel n'a pas changé" in problem[0]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", ("ELASTICSEARCH_URL 'not a url' n'est pas une adresse comme http://hote:9200",)),
        ("http://127.0.0.1:{closed}", ("Elasticsearch injoignable à", "127.0.0.1", ": connexion refusée")),
    ],
    ids=["unparsable", "refused"],
)
def test_a_wrong_address_is_one_clear_line(tmp_path, url, expected):
    result = reindex(tmp_path, url.format(closed=closed_port()))
    assert_one_clear_line(result, *expected)


@pytest.fixture
def secured_cluster() -> Iterator[str]:
    """Answers every request as a secured cluster answers a wrong API key."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _refuse(self):
            body = json.dumps(
                {
                    "error": {
                        "type": "security_exception",
                        "reason": "unable to authenticate with provided credentials and anonymous access is not "
                        "allowed for this request",
                    },
                    "status": 401,
                }
            ).encode()
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("WWW-Authenticate", 'ApiKey, Basic realm="security"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _refuse

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_bad_api_key_is_one_clear_line(tmp_path, secured_cluster):
    result = reindex(tmp_path, secured_cluster, ELASTICSEARCH_API_KEY="bm90OmEta2V5")
    assert_one_clear_line(result, "a refusé les identifiants (401)", "ELASTICSEARCH_API_KEY")


@on_elasticsearch
def test_a_url_that_is_not_the_cluster_is_one_clear_line(tmp_path):
    url = os.environ["ELASTICSEARCH_URL"].rstrip("/") + "/not-the-cluster"
    result = reindex(tmp_path, url)
    assert_one_clear_line(result, "n'a pas accepté le modèle d'index", "ELASTICSEARCH_URL est-il l'adresse")


def test_an_unexpected_error_is_one_line_and_its_trace_is_kept(tmp_path, monkeypatch, capsys):
    # The last line of defence in the command itself: a bug in any command (here one made
    # on purpose) reaches the user as one line, and the trace goes to DATA_DIR/logs.
    from emplettes import cli

    def broken(args, config):
        raise KeyError("a field no command expects")

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "cmd_status", broken)
    assert cli.main(["status"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "erreur inattendue : KeyError: 'a field no command expects'" in err
    assert f"détails dans {tmp_path / 'logs' / 'errors.log'}" in err
    trace = (tmp_path / "logs" / "errors.log").read_text(encoding="utf-8")
    assert "Traceback" in trace and "in broken" in trace


def test_a_setting_that_is_not_a_number_is_one_clear_line(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "PORT": "huit-mille"}
    result = subprocess.run(
        [sys.executable, "-m", "emplettes.cli", "status"], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 2
    assert result.stderr == "emplettes : PORT='huit-mille' n'est pas un nombre entier\n"
