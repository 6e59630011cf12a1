"""The test settings ignore the developer's shell and `.env`: `make test` passes whatever they export.

Each case imports config.settings_test in a fresh Python whose environment
is hostile: DEBUG on, the developer's own Stripe keys, a real SMTP server,
and a `.env` file full of other values.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from config import settings_test

BASE_DIR = Path(__file__).resolve().parent.parent
HOSTILE = {
    "DEBUG": "True",
    "STRIPE_SECRET_KEY": "sk_test_mine",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_mine",
    "STRIPE_WEBHOOK_SECRET": "whsec_mine",
    "STRIPE_API_BASE": "http://127.0.0.1:12111",
    "EMAIL_URL": "smtp://127.0.0.1:1",
    "CACHE_URL": "redis://127.0.0.1:6379/9",
    "ADMIN_URL": "secret-admin/",
    "SECURE_SSL_REDIRECT": "True",
    "ALLOWED_HOSTS": "shop.example.com",
    "CHECKOUT_RATE_LIMIT_PER_IP": "1",
    "TIME_ZONE": "Asia/Tokyo",
    "TASKS_BACKEND": "rq",
}
SHOWN = [
    "DEBUG",
    "STRIPE_SECRET_KEY",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_API_BASE",
    "EMAIL_BACKEND",
    "CACHES",
    "ADMIN_URL",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "CHECKOUT_RATE_LIMIT_PER_IP",
    "TIME_ZONE",
    "TASKS",
    "DATABASES",
]
PRINT_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    f"print(json.dumps({{name: getattr(s, name) for name in {SHOWN!r}}}, default=str))"
)


def test_settings_test_forces_its_values_over_a_hostile_environment_and_env_file(tmp_path):
    env_file = tmp_path / "developer.env"
    env_file.write_text(
        "DEBUG=True\nSTRIPE_SECRET_KEY=sk_test_from_dotenv\nLOG_LEVEL=DEBUG\nSTRIPE_TIMEOUT_SECONDS=99\n"
    )
    database_url = f"sqlite:///{tmp_path / 'hermetic.sqlite3'}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings_test",
        "ENV_FILE": str(env_file),
        "DATABASE_URL": database_url,
        **HOSTILE,
    }

    result = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["STRIPE_SECRET_KEY"] == "sk_test_stripe_press_suite"
    assert values["STRIPE_PUBLISHABLE_KEY"] == "pk_test_stripe_press_suite"
    assert values["STRIPE_WEBHOOK_SECRET"] == "whsec_stripe_press_suite"
    assert values["STRIPE_API_BASE"] == ""
    assert values["EMAIL_BACKEND"] == "django.core.mail.backends.locmem.EmailBackend"
    assert values["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert values["ADMIN_URL"] == "admin/"
    assert values["SECURE_SSL_REDIRECT"] is False
    assert "testserver" in values["ALLOWED_HOSTS"]
    assert values["CHECKOUT_RATE_LIMIT_PER_IP"] == 30
    assert values["TIME_ZONE"] == "UTC"
    assert values["TASKS"]["default"]["BACKEND"] == "django_tasks.backends.immediate.ImmediateBackend"
    # ...and the one value that does come from outside.
    assert values["DATABASES"]["default"]["NAME"] == str(tmp_path / "hermetic.sqlite3")


def test_every_variable_the_settings_read_is_forced_or_deliberately_from_outside():
    """A new setting read from the environment must get a test value here, or it leaks in."""
    source = (BASE_DIR / "config" / "settings.py").read_text()
    read = set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    read |= set(re.findall(r"""os\.environ(?:\.get)?[\(\[]\s*["']([A-Z][A-Z0-9_]*)["']""", source))
    assert "DEBUG" in read and "STRIPE_SECRET_KEY" in read  # the pattern does find them
    unforced = read - set(settings_test.FORCED) - settings_test.FROM_OUTSIDE
    assert unforced == set(), f"add these to FORCED in config/settings_test.py: {sorted(unforced)}"
