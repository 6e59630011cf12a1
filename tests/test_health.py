"""/healthz (config/health.py): fast answers for load balancers, whatever the database does."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connection
from django.test import Client

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def test_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "up"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200


def test_503_json_when_the_database_fails(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "down"}


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_get_and_head(client, method):
    response = getattr(client, method)("/healthz")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_plain_http_probes_are_answered_not_redirected(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()  # a new handler: SecurityMiddleware reads the setting when it starts

    assert client.get("/healthz").status_code == 200
    redirected = client.get("/")
    assert redirected.status_code == 301
    assert redirected["Location"] == "https://testserver/"


@pytest.fixture
def silent_database():
    """A TCP port that accepts connections and never says a word (a hung database)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


def test_a_database_that_never_answers_gives_503_within_seconds(silent_database, tmp_path):
    """PostgreSQL settings with their default connect timeout, pointed at a silent socket."""
    script = (
        "import json, time, django; django.setup(); from django.test import Client; "
        "start = time.monotonic(); response = Client().get('/healthz', HTTP_HOST='127.0.0.1'); "
        "print(json.dumps([response.status_code, response.json(), time.monotonic() - start]))"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "True",
        "DATABASE_URL": f"postgres://shop@127.0.0.1:{silent_database}/stripe_press",
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    status, body, seconds = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 503
    assert body == {"status": "unavailable", "database": "down"}
    assert seconds < 8  # the default DB_CONNECT_TIMEOUT is 5 s; without one it hangs for minutes
    assert time.monotonic() - started < 30
