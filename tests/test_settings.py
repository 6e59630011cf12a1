"""Settings as the process environment makes them: each case runs in a fresh Python.

The environment is built from scratch (ENV_FILE="" so a developer's `.env` is
never read, and nothing leaks in from the test settings of this process).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unreachable import silent_port

BASE_DIR = Path(__file__).resolve().parent.parent
GOOD_SECRET_KEY = "k3V9-pQ2xZr7_Lm4Ws8Yt1Nb6Hc0Jd5Fg2Ae9Uo3Iy7Tr4Ex1Wq8Kp6Mn0Bv5Cz"
PRODUCTION = {
    "DEBUG": "False",
    "SECRET_KEY": GOOD_SECRET_KEY,
    "ALLOWED_HOSTS": "shop.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
    "STRIPE_SECRET_KEY": "sk_live_51Hx0000000000000000000000",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_51Hx0000000000000000000000",
    "STRIPE_WEBHOOK_SECRET": "whsec_0000000000000000000000000000",
    "SITE_URL": "https://shop.example.com",
}
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({name: getattr(s, name) for name in %r}, default=str))"
)


def run(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'settings-test.sqlite3'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run(["manage.py", *args], env, tmp_path)


def settings_values(tmp_path: Path, names: list[str], **env: str) -> dict:
    result = run(["-c", PRINT_SETTINGS % (names,)], env, tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- production refuses a weak SECRET_KEY --------------------------------------------------


@pytest.mark.parametrize(
    "secret_key",
    [
        None,
        "",
        "short-key",
        "x" * 49 + "Y",  # long enough but no variety
        "django-insecure-" + GOOD_SECRET_KEY,
    ],
    ids=["missing", "empty", "short", "repetitive", "django-insecure"],
)
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, secret_key):
    env = {**PRODUCTION}
    if secret_key is None:
        del env["SECRET_KEY"]
    else:
        env["SECRET_KEY"] = secret_key

    result = manage(tmp_path, "check", **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set to a long random value when DEBUG is off" in result.stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    result = manage(tmp_path, "check")  # no DEBUG, no SECRET_KEY: production, so refused
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


# --- system checks -----------------------------------------------------------------------


def test_deploy_check_is_clean_with_production_values(tmp_path):
    result = manage(tmp_path, "check", "--deploy", **PRODUCTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output


def test_deploy_check_names_a_missing_stripe_setting(tmp_path):
    env = {**PRODUCTION, "STRIPE_PUBLISHABLE_KEY": ""}
    result = manage(tmp_path, "check", "--deploy", **env)
    output = result.stdout + result.stderr
    assert "payments.W001" in output
    assert "STRIPE_PUBLISHABLE_KEY is not set" in output


@pytest.mark.parametrize("secret_key", ["sk_live_51Hx0000000000000000000000", ""])
def test_deploy_check_warns_without_a_webhook_secret(tmp_path, secret_key):
    env = {**PRODUCTION, "STRIPE_WEBHOOK_SECRET": "", "STRIPE_SECRET_KEY": secret_key}
    result = manage(tmp_path, "check", "--deploy", **env)
    output = result.stdout + result.stderr
    assert "payments.W002" in output and "STRIPE_WEBHOOK_SECRET is not set" in output
    assert "manage.py stripe_webhook_endpoint" in output


@pytest.mark.parametrize("site_url", ["http://shop.example.com", "shop.example.com"])
def test_deploy_check_warns_when_site_url_is_not_https(tmp_path, site_url):
    result = manage(tmp_path, "check", "--deploy", **{**PRODUCTION, "SITE_URL": site_url})
    output = result.stdout + result.stderr
    assert "payments.W003" in output and "not an https URL" in output
    assert "payments.W002" not in output


def test_deploy_check_warns_without_site_url_and_names_the_address_emails_use(tmp_path):
    env = {**PRODUCTION, "SITE_URL": "", "ALLOWED_HOSTS": "shop.example.com,www.example.com"}
    result = manage(tmp_path, "check", "--deploy", **env)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "orders.W001" in output
    assert "links in emails use https://shop.example.com" in output


def test_deploy_check_fails_when_no_host_can_make_links_absolute(tmp_path):
    result = manage(tmp_path, "check", "--deploy", **{**PRODUCTION, "SITE_URL": "", "ALLOWED_HOSTS": "*"})
    assert result.returncode != 0
    assert "orders.E001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("port", "expected"), [(None, "http://127.0.0.1:8000"), ("8001", "http://127.0.0.1:8001")]
)
def test_an_empty_site_url_in_debug_is_the_address_make_run_serves(tmp_path, port, expected):
    env = {"DEBUG": "True", "SITE_URL": ""} | ({"PORT": port} if port else {})
    assert settings_values(tmp_path, ["SITE_URL"], **env) == {"SITE_URL": expected}


def test_check_is_clean_in_debug(tmp_path):
    result = manage(tmp_path, "check", DEBUG="True")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_production_defaults_are_secure(tmp_path):
    values = settings_values(
        tmp_path,
        [
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "ALLOWED_HOSTS",
        ],
        **PRODUCTION,
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["ALLOWED_HOSTS"] == ["shop.example.com"]


def test_unpaid_checkouts_hold_few_copies_briefly_by_default(tmp_path):
    names = ["STOCK_RESERVATION_MINUTES", "UNPAID_COPIES_PER_CLIENT"]
    values = settings_values(tmp_path, names, **PRODUCTION)
    assert values == {"STOCK_RESERVATION_MINUTES": 15, "UNPAID_COPIES_PER_CLIENT": 10}


def test_debug_uses_a_development_key_and_local_hosts(tmp_path):
    values = settings_values(tmp_path, ["DEBUG", "SECRET_KEY", "ALLOWED_HOSTS"], DEBUG="True")
    assert values["DEBUG"] is True
    assert values["SECRET_KEY"].startswith("django-insecure")
    assert "127.0.0.1" in values["ALLOWED_HOSTS"]


def test_env_file_is_read_and_the_process_environment_wins(tmp_path):
    env_file = tmp_path / "custom.env"
    env_file.write_text("DEBUG=True\nADMIN_URL=staff-only/\nTIME_ZONE=Europe/Paris\n")

    values = settings_values(
        tmp_path, ["DEBUG", "ADMIN_URL", "TIME_ZONE"], ENV_FILE=str(env_file), TIME_ZONE="Asia/Tokyo"
    )

    assert values == {"DEBUG": True, "ADMIN_URL": "staff-only/", "TIME_ZONE": "Asia/Tokyo"}


def test_stripe_api_base_must_be_https_or_loopback(tmp_path):
    result = manage(tmp_path, "check", DEBUG="True", STRIPE_API_BASE="http://stripe.example.com")
    assert result.returncode != 0
    assert "STRIPE_API_BASE must be empty, an https URL, or a loopback URL" in result.stderr


def test_production_refuses_a_stripe_api_base_that_is_not_stripe_or_loopback(tmp_path):
    result = manage(tmp_path, "check", **PRODUCTION, STRIPE_API_BASE="https://evil.example")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "STRIPE_API_BASE='https://evil.example' is not allowed with DEBUG off" in result.stderr


@pytest.mark.parametrize(
    "api_base", ["", "https://api.stripe.com", "http://127.0.0.1:8420", "http://localhost:1"]
)
def test_production_accepts_stripe_or_a_loopback_emulator(tmp_path, api_base):
    values = settings_values(tmp_path, ["STRIPE_API_BASE"], **PRODUCTION, STRIPE_API_BASE=api_base)
    assert values["STRIPE_API_BASE"] == api_base


def test_the_standin_folder_is_a_static_folder_in_offline_mode_only(tmp_path):
    offline = settings_values(
        tmp_path, ["STATICFILES_DIRS"], DEBUG="True", STRIPE_API_BASE="http://127.0.0.1:8420"
    )
    production = settings_values(
        tmp_path, ["STATICFILES_DIRS"], **PRODUCTION, STRIPE_API_BASE="http://127.0.0.1:8420"
    )
    assert str(BASE_DIR / "static_dev") in offline["STATICFILES_DIRS"]
    assert production["STATICFILES_DIRS"] == [str(BASE_DIR / "static")]


# --- database ---------------------------------------------------------------------------


def database(tmp_path: Path, **env: str) -> dict:
    return settings_values(tmp_path, ["DATABASES"], DEBUG="True", **env)["DATABASES"]["default"]


def test_postgres_url_gives_persistent_health_checked_connections(tmp_path):
    db = database(tmp_path, DATABASE_URL="postgres://shop:pw@db.internal:5433/stripe_press")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], int(db["PORT"])) == (
        "stripe_press",
        "shop",
        "db.internal",
        5433,
    )
    assert db["CONN_MAX_AGE"] > 0
    assert db["CONN_HEALTH_CHECKS"] is True


def test_conn_max_age_in_the_url_overrides_the_default(tmp_path):
    db = database(tmp_path, DATABASE_URL="postgres://shop@127.0.0.1:5432/stripe_press?conn_max_age=0")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["CONN_MAX_AGE"] == 0


def test_conn_max_age_from_the_environment(tmp_path):
    db = database(tmp_path, DATABASE_URL="postgres://shop@127.0.0.1/stripe_press", CONN_MAX_AGE="30")
    assert db["CONN_MAX_AGE"] == 30


def test_default_database_is_the_sqlite_file_ready_for_concurrent_requests(tmp_path):
    db = database(tmp_path, DATABASE_URL="")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(BASE_DIR / "db.sqlite3")
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert db["OPTIONS"]["timeout"] >= 5


def test_postgres_gives_up_connecting_after_a_few_seconds(tmp_path):
    db = database(tmp_path, DATABASE_URL="postgres://shop@127.0.0.1/stripe_press")
    assert 0 < db["OPTIONS"]["connect_timeout"] <= 10
    db = database(tmp_path, DATABASE_URL="postgres://shop@127.0.0.1/stripe_press", DB_CONNECT_TIMEOUT="2")
    assert db["OPTIONS"]["connect_timeout"] == 2


# --- content security policy --------------------------------------------------------------


def test_csp_report_only_sends_the_same_policy_unenforced(tmp_path):
    names = ["CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"]
    enforced = settings_values(tmp_path, names, DEBUG="True")
    report_only = settings_values(tmp_path, names, DEBUG="True", CSP_REPORT_ONLY="True")
    assert enforced["CONTENT_SECURITY_POLICY_REPORT_ONLY"] is None
    assert enforced["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["script-src"] == ["'self'"]
    assert report_only == {
        "CONTENT_SECURITY_POLICY": None,
        "CONTENT_SECURITY_POLICY_REPORT_ONLY": enforced["CONTENT_SECURITY_POLICY"],
    }


# --- a stalled Redis fails a cache call quickly --------------------------------------------

CACHE_CALL_SECONDS = (
    "import time, django; django.setup(); from django.core.cache import cache\n"
    "started = time.monotonic()\n"
    "try:\n"
    "    cache.add('probe', 1, timeout=5)\n"
    "except Exception as exc:\n"
    "    print(type(exc).__name__, round(time.monotonic() - started, 2))\n"
)


def test_a_cache_call_to_a_stalled_redis_fails_within_its_socket_timeout(tmp_path):
    with silent_port() as port:
        env = {**PRODUCTION, "CACHE_URL": f"redis://127.0.0.1:{port}/0"}
        result = run(["-c", CACHE_CALL_SECONDS], env, tmp_path)
    assert result.returncode == 0, result.stderr
    error, seconds = result.stdout.split()
    assert error == "TimeoutError"
    assert float(seconds) < 1


# --- cache ----------------------------------------------------------------------------------


def test_a_redis_cache_gives_up_connecting_and_waiting_within_a_fraction_of_a_second(tmp_path):
    names = ["CACHES", "CATALOG_CACHE_SECONDS"]
    values = settings_values(tmp_path, names, DEBUG="True", CACHE_URL="redis://127.0.0.1:6379/1")
    cache = values["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["OPTIONS"] == {"socket_connect_timeout": 0.25, "socket_timeout": 0.25}
    assert values["CATALOG_CACHE_SECONDS"] == 300
    slower = settings_values(
        tmp_path, ["CACHES"], DEBUG="True", CACHE_URL="redis://127.0.0.1:6379/1", CACHE_TIMEOUT_SECONDS="0.5"
    )
    assert slower["CACHES"]["default"]["OPTIONS"]["socket_timeout"] == 0.5


@pytest.mark.parametrize(("asked", "given"), [("60", 60), ("0", 0), ("3600", 900), ("-5", 0)])
def test_catalog_entries_live_at_most_fifteen_minutes(tmp_path, asked, given):
    values = settings_values(tmp_path, ["CATALOG_CACHE_SECONDS"], DEBUG="True", CATALOG_CACHE_SECONDS=asked)
    assert values["CATALOG_CACHE_SECONDS"] == given
