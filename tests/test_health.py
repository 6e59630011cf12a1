"""/healthz (config/health.py): fast answers for load balancers, whatever the database does."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from tests.postgres import postgres_only
from tests.unreachable import StallingProxy, closed_port, silent_port

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def test_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "up"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head("/healthz").status_code == 200


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


# /healthz in a process of its own, on the production settings and `DATABASE_URL`: it first opens
# the app's connection and runs a query (as an earlier request would), says "open", waits for a
# line on stdin (the test may stall the database meanwhile), then times two probes.
HEALTHZ_PROBES = """
import json, sys, time, django
django.setup()
from django.db import connection
from django.test import Client
if sys.argv[1] == "open":
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
print("open", flush=True)
sys.stdin.readline()
for _ in range(2):
    start = time.monotonic()
    response = Client().get("/healthz", HTTP_HOST="127.0.0.1")
    print(json.dumps([response.status_code, response.json(), time.monotonic() - start]), flush=True)
"""


def healthz_probes(database_url: str, tmp_path, *, open_first: bool = False, before_probes=lambda: None):
    """[(status, body, seconds)] of two /healthz probes in a fresh process on `database_url`."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "True",
        "DATABASE_URL": database_url,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", HEALTHZ_PROBES, "open" if open_first else "-"],
        cwd=BASE_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "open", process.stderr.read()
        before_probes()
        out, err = process.communicate("go\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    return [tuple(json.loads(line)) for line in out.strip().splitlines()[-2:]]


DOWN = {"status": "unavailable", "database": "down"}


def test_a_database_that_refuses_connections_gives_503_at_once(tmp_path):
    url = f"postgres://shop@127.0.0.1:{closed_port()}/stripe_press"
    for status, body, seconds in healthz_probes(url, tmp_path):
        assert (status, body) == (503, DOWN)
        assert seconds < 5


def test_a_database_that_never_answers_gives_503_within_5_seconds(tmp_path):
    with silent_port() as port:
        probes = healthz_probes(f"postgres://shop@127.0.0.1:{port}/stripe_press", tmp_path)
    for status, body, seconds in probes:
        assert (status, body) == (503, DOWN)
        assert seconds < 5  # without its own short timeout it waits DB_CONNECT_TIMEOUT (5 s), or minutes


@postgres_only
def test_a_database_that_stalls_under_an_open_connection_gives_503_within_5_seconds(db, tmp_path):
    """The app's connection is open when the link stalls: nothing answers, nothing is refused."""
    settings_dict = connection.settings_dict
    with StallingProxy(int(settings_dict["PORT"] or 5432)) as proxy:
        url = f"postgres://{settings_dict['USER']}@127.0.0.1:{proxy.port}/{settings_dict['NAME']}"
        healthy = healthz_probes(url, tmp_path, open_first=True)
        assert [probe[:2] for probe in healthy] == [(200, {"status": "ok", "database": "up"})] * 2

        probes = healthz_probes(url, tmp_path, open_first=True, before_probes=proxy.stall)

    for status, body, seconds in probes:
        assert (status, body) == (503, DOWN)
        assert seconds < 5


@postgres_only
def test_a_check_whose_query_stalls_is_ended_not_left_waiting(db, monkeypatch):
    """The link stalls after the check's connection opened: the probe answers, and the check ends."""
    from django.db.backends.signals import connection_created

    from config import health

    with StallingProxy(int(connection.settings_dict["PORT"] or 5432)) as proxy:
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", str(proxy.port))
        monkeypatch.setattr(health, "_last_check", None)

        def stall_once_open(sender, connection, **kwargs):
            if connection.alias == "healthz":
                proxy.stall()

        connection_created.connect(stall_once_open)
        try:
            started = time.monotonic()
            answered = health.database_answers()
            seconds = time.monotonic() - started
            check = health._last_check
            ended = check.done.wait(3)
        finally:
            connection_created.disconnect(stall_once_open)

    assert proxy.stalled.is_set()  # the check's connection did open, then the link stalled
    assert answered is False and seconds < 3
    assert ended and not check.answered  # its socket was shut: no thread left waiting on the link
