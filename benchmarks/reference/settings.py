"""The benchmark's reference: a bare Django hello-world, served by the shop's gunicorn config.

Nothing but Django's request handling: no database, no middleware, no
templates. The shop's pages are measured as a ratio to this one.
"""

SECRET_KEY = "benchmark-reference-" + "k3Zr8Wq1" * 8
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.reference.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
