"""Settings for Stripe Press, read from the environment (and a `.env` file).

Every variable is documented in `.env.example`. Production (DEBUG off) gets
secure defaults and refuses to start without a real SECRET_KEY.
"""

import ipaddress
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from config.env import env_load
from config.logging import logging_config
from config.media import import_storage, media_origin, media_storage

BASE_DIR = Path(__file__).resolve().parent.parent

env = env_load()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"
# `SECRET_KEY=` (empty, as in .env.example) counts as unset.
SECRET_KEY = env.str("SECRET_KEY", default="") or (_DEV_SECRET_KEY if DEBUG else "")


def _is_weak_secret_key(key: str) -> bool:
    return len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure")


if not DEBUG and _is_weak_secret_key(SECRET_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a long random value when DEBUG is off "
        "(at least 50 characters, not starting with 'django-insecure'). Generate one "
        "with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "csp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "imagekit",
    "import_export",
    "core",
    "shop.catalog",
    "shop.vouchers",
    "shop.cart",
    "shop.orders",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.security.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "payments.context_processors.stripe_mode",
                "shop.cart.context_processors.cart",
            ],
        },
    },
]

# Database: a SQLite file by default; PostgreSQL (psycopg 3, Django's own
# backend) through DATABASE_URL. Connections are kept open between requests
# (CONN_MAX_AGE, overridable in the URL: ?conn_max_age=0) and health-checked
# before reuse (CONN_HEALTH_CHECKS).
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
# Seconds to wait for the database to accept a connection (and answer its
# start-up) before failing: a database that hangs never holds a worker for long.
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=5)
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _db_options.setdefault("connect_timeout", DB_CONNECT_TIMEOUT)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default takes concurrent requests (a webhook while a
    # success page loads): WAL lets readers run beside the one writer, a
    # writer waits up to `timeout` seconds for the lock instead of failing at
    # once with "database is locked", and IMMEDIATE transactions take the
    # write lock when they begin, so two of them never deadlock on an upgrade.
    _db_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    _db_options.setdefault("transaction_mode", "IMMEDIATE")
    _db_options.setdefault("timeout", 20)
# /healthz answers 503 when a fresh connection's SELECT 1 has not answered within
# this many seconds, whatever the database does (config/health.py).
HEALTHZ_TIMEOUT_SECONDS = env.int("HEALTHZ_TIMEOUT_SECONDS", default=2)

CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or "locmemcache://")}
# Seconds redis-py waits to connect to the cache and for each of its answers: a
# dead or stalled Redis costs a request this long, then pages render fresh.
CACHE_TIMEOUT_SECONDS = env.float("CACHE_TIMEOUT_SECONDS", default=0.25)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    # Django's RedisCache hands OPTIONS to redis-py's connection pool.
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
        "socket_timeout": CACHE_TIMEOUT_SECONDS,
        **CACHES["default"].get("OPTIONS", {}),
    }
# Seconds a cached catalog fragment (the book list, a book page) lives at most
# (shop/catalog/cache.py): a book change shows at once through the catalog
# version, and this bounds how long one whose invalidation was lost (the cache
# down at that moment, or another process's memory with the per-process
# default cache) can stay stale. 0 = no caching; at most 15 minutes.
CATALOG_CACHE_SECONDS = min(max(env.int("CATALOG_CACHE_SECONDS", default=300), 0), 900)

# Card-testing defence on create-intent (payments/ratelimit.py): attempts
# allowed per client IP and per session within the window; 0 = no limit.
CHECKOUT_RATE_LIMIT_PER_IP = env.int("CHECKOUT_RATE_LIMIT_PER_IP", default=30)
CHECKOUT_RATE_LIMIT_PER_SESSION = env.int("CHECKOUT_RATE_LIMIT_PER_SESSION", default=10)
CHECKOUT_RATE_LIMIT_WINDOW = max(env.int("CHECKOUT_RATE_LIMIT_WINDOW", default=600), 1)
# Success-page loads per client IP within the same window (each may ask
# Stripe about a PaymentIntent); 0 = no limit.
SUCCESS_PAGE_RATE_LIMIT_PER_IP = env.int("SUCCESS_PAGE_RATE_LIMIT_PER_IP", default=60)
# Order page and receipt loads with a wrong or missing key (GET
# /orders/<number>/?key=...) per client IP within the same window: a cap on
# guessing keys (a right key is not counted); 0 = no limit.
ORDER_PAGE_RATE_LIMIT_PER_IP = env.int("ORDER_PAGE_RATE_LIMIT_PER_IP", default=60)
# "Find my orders" (POST /orders/, shop/orders/views_find.py) within the same
# window: requests per client IP (bad input counted too) and per email address
# (each address also gets at most one email per 10 minutes); 0 = no limit.
FIND_ORDERS_RATE_LIMIT_PER_IP = env.int("FIND_ORDERS_RATE_LIMIT_PER_IP", default=10)
FIND_ORDERS_RATE_LIMIT_PER_EMAIL = env.int("FIND_ORDERS_RATE_LIMIT_PER_EMAIL", default=3)
# Discount codes tried (cart page and checkout) per client IP within the same
# window: a cap on guessing codes; 0 = no limit.
DISCOUNT_CODE_RATE_LIMIT_PER_IP = env.int("DISCOUNT_CODE_RATE_LIMIT_PER_IP", default=20)
# Reverse proxies in front of the app that append to X-Forwarded-For; 0 =
# ignore the header (a client can write anything in it).
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Admin login brute-force protection (django-axes): after LOGIN_FAILURE_LIMIT
# failed sign-ins from one client address, that address is locked out for
# LOGIN_LOCKOUT_MINUTES, whatever usernames it tries. Every failure is logged
# and recorded; staff see the records (and can lift a lockout) in the admin
# under "Axes".
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
# Per address only: a username is never locked as such, so failures from elsewhere cannot lock
# staff out. (A ["username", "ip_address"] pair would add nothing: axes applies one failure
# limit to every parameter, and an address's count always reaches it first.)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = True
# One admin row per failed sign-in (Axes › Access failures), not only the counters.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "axes/locked_out.html"
# Failure log lines name the username and address tried (never the password).
AXES_SENSITIVE_PARAMETERS: list[str] = []
# The client address the way the checkout rate limit reads it (NUM_PROXIES).
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"

# A shopper's session (and so their cart) lasts this long after its last change.
SESSION_COOKIE_AGE = 30 * 24 * 60 * 60
# Shipping per order, in minor units of the shop's currency: a flat amount,
# free when the books come to SHIPPING_FREE_FROM or more (0 = never free).
SHIPPING_FLAT_AMOUNT = env.int("SHIPPING_FLAT_AMOUNT", default=499)
SHIPPING_FREE_FROM = env.int("SHIPPING_FREE_FROM", default=5000)
# Countries the shop ships to (ISO 3166-1 alpha-2): the address form offers only these.
EU_COUNTRIES = "AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE"
SHIPPING_COUNTRIES = [
    code.strip().upper()
    for code in env.list("SHIPPING_COUNTRIES", default=["US", "CA", "GB", *EU_COUNTRIES.split(",")])
    if code.strip()
]
# An unpaid order holds its copies this long; then `release_expired_holds` (run
# every minute) gives them back and cancels the order and its PaymentIntent.
STOCK_RESERVATION_MINUTES = env.int("STOCK_RESERVATION_MINUTES", default=15)
# Copies the unpaid orders from one client address may hold at once (0 = no limit):
# strangers cannot empty the shelf with checkouts they never pay.
UNPAID_COPIES_PER_CLIENT = env.int("UNPAID_COPIES_PER_CLIENT", default=10)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Dates written one way everywhere ("6 December 2026, 14:05"): config/formats/en/formats.py.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers the files whitenoise serves (hashed, compressed).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default="") or BASE_DIR / "staticfiles")
# Uploaded files (book covers and their sized copies): config/media.py.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default="") or BASE_DIR / "media")
MEDIA_URL = env.str("MEDIA_URL", default="") or "/media/"
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="")
_s3 = {
    "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME", default=""),
    "region_name": env.str("AWS_S3_REGION_NAME", default=""),
    "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=""),
    "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=""),
    "access_key": env.str("AWS_ACCESS_KEY_ID", default=""),
    "secret_key": AWS_SECRET_ACCESS_KEY,
}
MEDIA_ORIGIN = media_origin(kind=MEDIA_STORAGE, s3=_s3)
STORAGES = {
    "default": media_storage(kind=MEDIA_STORAGE, s3=_s3),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# django-imagekit (the covers' sized copies, shop/catalog/covers.py) notes which copies exist in
# a cache of its own in each process's memory: a stalled Redis never fails a cover upload.
IMAGEKIT_CACHE_BACKEND = "imagekit"
IMAGEKIT_CACHE_TIMEOUT = 3600
CACHES["imagekit"] = {
    "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    "LOCATION": "imagekit",
    "TIMEOUT": IMAGEKIT_CACHE_TIMEOUT,
}

# Bulk import of books (django-import-export): the whole file or nothing, and the uploaded file
# kept between the preview and the confirmation in storage of its own, never public
# (STORAGES["import_export"], config/media.py).
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.MediaStorage"
IMPORT_FILES_ROOT = Path(env.str("IMPORT_FILES_ROOT", default="") or BASE_DIR / "imports")
STORAGES["import_export"] = import_storage(kind=MEDIA_STORAGE, s3=_s3, root=IMPORT_FILES_ROOT)

ADMIN_URL = env.str("ADMIN_URL", default="admin/").strip("/") + "/"

# Email: console backend by default; smtp+tls://user:pass@host:587 in production.
globals().update(env.email_url_config(env.str("EMAIL_URL", default="") or "consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Stripe Press <orders@stripe-press.test>")
# Seconds the mail server gets per message before the send fails (and is retried
# later): an email task never hangs a worker, and its claim outlives it.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
# The shop's public address, for links in emails (sent by a worker, which has no
# request to take a host name from), e.g. https://shop.example.com. `SITE_URL=`
# (empty, as in .env.example) counts as unset: in DEBUG, the address `make run`
# serves; otherwise emails use https:// and the first ALLOWED_HOSTS name, and
# `manage.py check --deploy` warns (shop/orders/access.py, shop/orders/checks.py).
_port = env.str("PORT", default="")
_dev_site_url = f"http://127.0.0.1:{_port if _port.isdigit() else 8000}"
SITE_URL = (env.str("SITE_URL", default="") or (_dev_site_url if DEBUG else "")).rstrip("/")
# Printed at the top of receipts; lines separated by "|".
SHOP_ADDRESS = env.str("SHOP_ADDRESS", default="Stripe Press|510 Townsend Street|San Francisco, CA 94103|USA")

# --- Background tasks (Django's Tasks API through the django-tasks backport) --
# "database" (default): tasks are rows in this database (django-tasks-db), enqueued
# in the transaction of the change that causes them; run them with `manage.py
# db_worker --queue-name <queues>`. "rq": Redis at TASKS_REDIS_URL (django-tasks-rq),
# run them with `manage.py rqworker <queues>`. "immediate": run inline, in the
# request (tests only). The Procfile runs a worker for "webhooks" and one for "emails,default".
TASKS_BACKEND = env.str("TASKS_BACKEND", default="database")
_TASKS_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASKS_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(_TASKS_BACKENDS)}.")
# Webhook events are applied on their own queue and worker, so a slow or hanging
# mail server ("emails") never delays a payment; "default" is for anything else.
TASK_QUEUES = ["webhooks", "emails", "default"]
TASKS = {"default": {"BACKEND": _TASKS_BACKENDS[TASKS_BACKEND], "QUEUES": TASK_QUEUES}}
# The Redis queues of the "rq" backend (django-rq reads RQ_QUEUES).
TASKS_REDIS_URL = env.str("TASKS_REDIS_URL", default="redis://127.0.0.1:6379/2")
RQ_QUEUES = {name: {"URL": TASKS_REDIS_URL, "DEFAULT_TIMEOUT": 300} for name in TASK_QUEUES}

# --- Stripe -----------------------------------------------------------------
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Empty = real Stripe. A loopback URL (http://127.0.0.1:8420) = a local emulator.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="").rstrip("/")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
# Calls made while a shopper's page renders (the success page): this budget, no
# retries; past it the page shows what the database knows.
STRIPE_PAGE_TIMEOUT_SECONDS = env.float("STRIPE_PAGE_TIMEOUT_SECONDS", default=2.0)
STRIPE_WEBHOOK_TOLERANCE_SECONDS = 300
# `sync_payments` cancels unpaid orders (and their PaymentIntents) older than this; 0 = never.
ORDER_ABANDON_AFTER_HOURS = env.int("ORDER_ABANDON_AFTER_HOURS", default=24)


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


STRIPE_API_HOST = "https://api.stripe.com"
# Offline mode: a local emulator in DEBUG. The checkout page then loads the
# project's Stripe.js stand-in and every page shows a test-mode banner.
STRIPE_OFFLINE_MODE = DEBUG and bool(STRIPE_API_BASE) and _is_loopback_url(STRIPE_API_BASE)
if not DEBUG and STRIPE_API_BASE not in ("", STRIPE_API_HOST) and not _is_loopback_url(STRIPE_API_BASE):
    # Anything else would receive the secret key and land in the checkout's CSP.
    raise ImproperlyConfigured(
        f"STRIPE_API_BASE={STRIPE_API_BASE!r} is not allowed with DEBUG off: leave it empty "
        f"(Stripe's API), set it to {STRIPE_API_HOST}, or to a loopback URL (a local emulator)."
    )
if STRIPE_API_BASE and not _is_loopback_url(STRIPE_API_BASE) and not STRIPE_API_BASE.startswith("https://"):
    raise ImproperlyConfigured("STRIPE_API_BASE must be empty, an https URL, or a loopback URL.")
# The Stripe.js stand-in (static_dev/js/stripe-standin.js) is a static file only
# in offline mode: a production collectstatic never finds it.
if STRIPE_OFFLINE_MODE:
    STATICFILES_DIRS.append(BASE_DIR / "static_dev")

# --- Security ---------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe the health check over plain HTTP: answer, not 301.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# The header only allows preloading; enrolling is a manual step at hstspreload.org.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp). _csp_directives has the shape of Django
# 6's built-in SECURE_CSP, so moving to Django 6 is `SECURE_CSP = _csp_directives`
# (and SECURE_CSP_REPORT_ONLY). Nothing inline, no Stripe origin: the checkout
# page adds Stripe's (payments/csp.py). Report-only sends the policy without
# enforcing it (browsers log what it would block). Permissions-Policy:
# config/security.py.
_csp_directives = {
    "default-src": [SELF],
    "script-src": [SELF],
    "connect-src": [SELF],
    # Covers come from the bucket when media is stored in S3 (config/media.py).
    "img-src": [SELF, "data:", *([MEDIA_ORIGIN] if MEDIA_ORIGIN else [])],
    "style-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "form-action": [SELF],
    "frame-ancestors": [NONE],
}
# (Lower-case names: django-csp 4 reports upper-case CSP_* settings as 3.x leftovers.)
_csp_report_only = env.bool("CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY = None if _csp_report_only else {"DIRECTIVES": _csp_directives}
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _csp_directives} if _csp_report_only else None
CSRF_FAILURE_VIEW = "payments.views.csrf_failure"
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ----------------------------------------------------------------
# config/logging.py: "plain" lines or "json" (one object per line, for log
# collectors); secrets are masked on every handler either way.
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
LOGGING = logging_config(level=LOG_LEVEL, log_format=LOG_FORMAT)
# redis-py (RQ workers' pub/sub) gives the "push_response" logger an unfiltered stderr
# handler of its own unless that logger exists: declare it, so it logs through ours.
LOGGING["loggers"]["push_response"] = {"handlers": [], "level": "INFO", "propagate": True}
