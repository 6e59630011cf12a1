"""Production serving: collectstatic + whitenoise (hashed, compressed, cached forever) and gunicorn."""

import gzip
import json
import multiprocessing
import os
import runpy
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client

from tests.unreachable import silent_port

BASE_DIR = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
FOREVER = "max-age=315360000, public, immutable"
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": "k3V9-pQ2xZr7_Lm4Ws8Yt1Nb6Hc0Jd5Fg2Ae9Uo3Iy7Tr4Ex1Wq8Kp6Mn0Bv5Cz",
    "ALLOWED_HOSTS": "127.0.0.1",
    "BEHIND_TLS_PROXY": "True",
    "STRIPE_SECRET_KEY": "sk_live_51HxServingTest000000",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_51HxServingTest000000",
    "STRIPE_WEBHOOK_SECRET": "whsec_servingtest000000",
}


# --- whitenoise through the WSGI app ----------------------------------------------------


@pytest.fixture
def collected_static(settings, tmp_path):
    """collectstatic with the production storage into a fresh STATIC_ROOT."""
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return settings.STATIC_ROOT


def test_collectstatic_writes_hashed_and_compressed_files(collected_static):
    manifest = json.loads((collected_static / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/shop.css"]
    assert hashed != "css/shop.css" and hashed.startswith("css/shop.")
    assert (collected_static / hashed).is_file()
    assert (collected_static / f"{hashed}.gz").is_file()
    assert staticfiles_storage.url("css/shop.css") == f"/static/{hashed}"


@pytest.mark.django_db
def test_hashed_files_are_served_compressed_and_cached_forever(collected_static):
    client = Client()  # a new WSGI handler: whitenoise indexes the new STATIC_ROOT
    url = staticfiles_storage.url("js/checkout.js")

    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert response["Cache-Control"] == FOREVER
    assert response["Content-Encoding"] == "gzip"
    assert response["Vary"] == "Accept-Encoding"
    body = gzip.decompress(b"".join(response.streaming_content))
    assert body == (collected_static / "js/checkout.js").read_bytes()

    plain = client.get("/static/js/checkout.js")  # the unhashed name may change: cached briefly
    assert plain.status_code == 200
    assert "immutable" not in plain["Cache-Control"]

    page = client.get("/")  # pages link to the hashed names
    assert staticfiles_storage.url("css/shop.css") in page.content.decode()


# --- gunicorn with config/gunicorn.conf.py --------------------------------------------------


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    monkeypatch.setenv("ENV_FILE", "")
    for name in ("PORT", "HOST", "WEB_CONCURRENCY", "WEB_THREADS", "FORWARDED_ALLOW_IPS", "LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_DIR / "config/gunicorn.conf.py"))


def test_gunicorn_config_defaults(monkeypatch):
    config = gunicorn_settings(monkeypatch, WEB_CONCURRENCY="")  # set but empty: the default
    assert config["bind"] == ["0.0.0.0:8000"]
    assert config["workers"] == multiprocessing.cpu_count() * 2 + 1
    assert (config["worker_class"], config["threads"]) == ("gthread", 4)
    assert config["timeout"] >= 40  # longer than a Stripe call with its retries
    assert config["graceful_timeout"] == 30
    assert config["accesslog"] == "-"
    assert config["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert "%(U)s" in config["access_log_format"] and "%(r)s" not in config["access_log_format"]
    assert "%(q)s" not in config["access_log_format"] and "%(f)s" not in config["access_log_format"]


def test_gunicorn_config_from_environment(monkeypatch):
    config = gunicorn_settings(
        monkeypatch, PORT="9123", HOST="127.0.0.1", WEB_CONCURRENCY="3", FORWARDED_ALLOW_IPS="10.0.0.5"
    )
    assert config["bind"] == ["127.0.0.1:9123"]
    assert config["workers"] == 3
    assert config["forwarded_allow_ips"] == "10.0.0.5"
    handlers = config["logconfig_dict"]["handlers"]
    assert all(handler["filters"] == ["redact_secrets"] for handler in handlers.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def gunicorn_start(tmp_path: Path, **env_extra: str) -> dict:
    """gunicorn -c config/gunicorn.conf.py config.wsgi: production settings, SQLite in `tmp_path`."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "LOG_FORMAT": "json",
        **PRODUCTION,
        **env_extra,
    }
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command, "-v0"],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode()
    stdout, stderr = tmp_path / "stdout.log", tmp_path / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=err,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, stderr.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
    return {
        "base": f"http://127.0.0.1:{port}",
        "process": process,
        "stdout": stdout,
        "stderr": stderr,
        "static": tmp_path / "static",
        "env": env,
    }


def gunicorn_stop(server: dict) -> None:
    process = server["process"]
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def production_server(tmp_path_factory):
    """The production server, shared by the tests below, in order: the last one stops it."""
    server = gunicorn_start(tmp_path_factory.mktemp("gunicorn"))
    yield server
    gunicorn_stop(server)


HTTPS = {"X-Forwarded-Proto": "https"}  # as the TLS-terminating proxy sends it


def test_gunicorn_serves_the_shop_with_production_settings(production_server):
    base = production_server["base"]
    manifest = json.loads((production_server["static"] / "staticfiles.json").read_text())["paths"]

    status, headers, body = fetch(
        f"{base}/static/{manifest['css/shop.css']}", {"Accept-Encoding": "gzip", **HTTPS}
    )
    assert status == 200
    assert headers["Cache-Control"] == FOREVER
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == (production_server["static"] / manifest["css/shop.css"]).read_bytes()

    status, headers, _ = fetch(f"{base}/")  # plain HTTP: sent to HTTPS
    assert status == 301
    assert headers["Location"].startswith("https://127.0.0.1") and headers["Location"].endswith("/")

    status, _, body = fetch(f"{base}/healthz")  # a load balancer's plain-HTTP probe is answered
    assert (status, json.loads(body)) == (200, {"status": "ok", "database": "up"})

    status, headers, _ = fetch(f"{base}/healthz", HTTPS)
    assert status == 200
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    assert "script-src 'self';" in headers["Content-Security-Policy"] + ";"
    assert headers["X-Frame-Options"] == "DENY"


def test_production_never_ships_the_stripe_js_standin(production_server):
    """The offline stand-in is development tooling: not collected, not served."""
    manifest = json.loads((production_server["static"] / "staticfiles.json").read_text())["paths"]
    assert "js/checkout.js" in manifest
    assert not any("standin" in name for name in manifest)
    assert not list(production_server["static"].rglob("*standin*"))
    status, _, _ = fetch(f"{production_server['base']}/static/js/stripe-standin.js", HTTPS)
    assert status == 404


def test_gunicorn_logs_are_json_and_never_carry_client_secrets(production_server):
    base = production_server["base"]
    secret_url = (
        f"{base}/payments/success/?payment_intent=pi_3Abc&payment_intent_client_secret=pi_3Abc_secret_LeakMe"
    )
    status, _, _ = fetch(
        secret_url, {**HTTPS, "Referer": secret_url, "Authorization": "Bearer sk_live_LeakMeToo"}
    )
    assert status == 404

    process = production_server["process"]
    process.send_signal(signal.SIGTERM)  # a deploy: finish and exit cleanly
    assert process.wait(timeout=40) == 0
    stdout = production_server["stdout"].read_text()
    stderr = production_server["stderr"].read_text()
    for output in (stdout, stderr):
        assert "LeakMe" not in output
    access = [json.loads(line) for line in stdout.splitlines()]
    assert {line["logger"] for line in access} == {"gunicorn.access"}
    assert '"GET /payments/success/ HTTP/1.1" 404' in access[-1]["message"]
    errors = [json.loads(line) for line in stderr.splitlines()]  # every line parses
    assert any(line["logger"] == "gunicorn.error" for line in errors)


# --- a hanging Stripe holds one thread, not the server ----------------------------------


HANGING_INTENT, HANGING_SECRET = "pi_HangingStripe1", "pi_HangingStripe1_secret_abc"
ORDER_WAITING_ON_STRIPE = f"""
from payments.client_secrets import client_secret_digest
from shop.orders.models import Order
Order.objects.create(
    email="ada@example.com", currency="usd", total_amount=2300,
    payment_intent_id="{HANGING_INTENT}", client_secret_hash=client_secret_digest("{HANGING_SECRET}"),
)
"""


def timed_fetch(url: str, results: dict, name: str) -> None:
    started = time.monotonic()
    status, _, body = fetch(url, HTTPS)
    results[name] = (status, body.decode(errors="replace"), time.monotonic() - started)


def test_while_stripe_hangs_one_worker_keeps_answering_other_pages(tmp_path):
    """Two success pages wait on a Stripe that never answers; the catalog and /healthz do not wait."""
    with silent_port() as hanging_stripe:
        server = gunicorn_start(tmp_path, STRIPE_API_BASE=f"http://127.0.0.1:{hanging_stripe}")  # one worker
        try:
            made = subprocess.run(
                [sys.executable, "manage.py", "shell", "-c", ORDER_WAITING_ON_STRIPE],
                cwd=BASE_DIR,
                env=server["env"],
                capture_output=True,
                timeout=60,
            )
            assert made.returncode == 0, made.stderr.decode()
            base, results = server["base"], {}
            success = f"{base}/payments/success/?payment_intent={HANGING_INTENT}"
            success += f"&payment_intent_client_secret={HANGING_SECRET}"
            waiting = [
                threading.Thread(target=timed_fetch, args=(success, results, f"success {n}")) for n in (1, 2)
            ]
            for thread in waiting:
                thread.start()
            time.sleep(0.5)  # both are waiting on Stripe now
            timed_fetch(f"{base}/healthz", results, "healthz")
            timed_fetch(f"{base}/", results, "catalog")
            for thread in waiting:
                thread.join(timeout=30)
        finally:
            gunicorn_stop(server)

    for name in ("healthz", "catalog"):
        status, _, seconds = results[name]
        assert status == 200 and seconds < 1, (name, results[name])
    for name in ("success 1", "success 2"):
        status, body, seconds = results[name]
        assert status == 200 and "We are confirming your payment" in body, (name, status)
        assert seconds < 3.5, (name, seconds)  # STRIPE_PAGE_TIMEOUT_SECONDS (2), no retries
