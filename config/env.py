"""The one place that reads the `.env` file.

Used by config/settings.py, config/gunicorn.conf.py and tools/devserver.py,
so the three agree on which file is read and on precedence: a variable
already set in the process environment wins over the file (django-environ's
read_env never overrides one). ENV_FILE names another file; ENV_FILE=""
reads none (the test settings do, so a developer's `.env` never leaks real
keys into the suite).
"""

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


def env_load() -> environ.Env:
    """Read `.env` (or ENV_FILE) into os.environ, then return a reader for it."""
    env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
    if env_file and Path(env_file).is_file():
        environ.Env.read_env(env_file)
    return environ.Env()
