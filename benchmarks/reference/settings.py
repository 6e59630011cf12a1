"""The benchmark's reference: a plain Django project whose one view returns a small response.

`make bench` serves it twice under the shop's gunicorn config: with no
middleware at all (the bare view), and with BENCH_REFERENCE_MIDDLEWARE=shop,
the shop's own MIDDLEWARE list and the settings those middleware read
(security headers and redirect, CSP, cookies, static files, axes). A page's
ratio to the first is what the whole shop costs; to the second, what its
views, templates, queries and cache cost beyond the middleware. No database,
no templates, no shop app.
"""

import os

from config import settings as shop

SECRET_KEY = shop.SECRET_KEY
DEBUG = False
ALLOWED_HOSTS = shop.ALLOWED_HOSTS
ROOT_URLCONF = "benchmarks.reference.urls"
USE_TZ = True
DATABASES: dict = {}
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "axes",
]
MIDDLEWARE = list(shop.MIDDLEWARE) if os.environ.get("BENCH_REFERENCE_MIDDLEWARE") == "shop" else []

# What those middleware read, taken from the shop's settings so the two never drift apart.
SHARED_PREFIXES = (
    "SECURE_",
    "SESSION_",
    "CSRF_",
    "CONTENT_SECURITY_POLICY",
    "X_FRAME_OPTIONS",
    "STATIC",
    "STORAGES",
    "AXES_",
    "AUTHENTICATION_BACKENDS",
)
globals().update({name: getattr(shop, name) for name in dir(shop) if name.startswith(SHARED_PREFIXES)})
