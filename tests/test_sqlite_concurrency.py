"""The embedded default database takes concurrent requests (issue: "database is locked" under SQLite).

A webhook and success pages for the same order at the same moment, on a
SQLite file with the default settings (WAL, busy timeout, IMMEDIATE
transactions), in a fresh process: tests/sqlite_race.py.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
ROUNDS = 5


def test_a_webhook_and_success_pages_at_once_on_sqlite(localstripe, tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "True",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'shop.sqlite3'}",
        "EMAIL_URL": "memorymail://",
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_SECRET_KEY": "sk_test_sqlite_race",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_sqlite_race",
        "STRIPE_WEBHOOK_SECRET": "whsec_sqlite_race",
        "STRIPE_MAX_NETWORK_RETRIES": "0",
        "CHECKOUT_RATE_LIMIT_PER_IP": "0",
        "CHECKOUT_RATE_LIMIT_PER_SESSION": "0",
        "LOG_LEVEL": "WARNING",
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.sqlite_race", str(ROUNDS)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["journal_mode"] == "wal"
    expected = [("success", 200)] * 3 + [("webhook", 200)]
    assert [[tuple(answer) for answer in race] for race in outcome["answers"]] == [expected] * ROUNDS
    assert outcome["orders"] == ["paid"] * ROUNDS
    assert "database is locked" not in result.stderr
