"""Settings for the test suite: the production settings with every value forced.

Hermetic: whatever the developer's shell exports (DEBUG=True, their own
Stripe keys, an SMTP server) or their `.env` holds, the suite sees the values
below. Only DATABASE_URL (PostgreSQL in CI) comes from outside; the Redis
tests take their server from TEST_REDIS_URL themselves.

Every variable config/settings.py reads is listed in FORCED, with a value
(not left unset), so a `.env` loaded without overwriting (setdefault) cannot
fill it either; tests/test_settings_hermetic.py keeps the list complete.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

FORCED = {
    "ENV_FILE": "",  # never read a .env file
    "DEBUG": "False",
    "SECRET_KEY": "test-secret-key-" + "x7Qp2Lm9" * 8,
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "CSRF_TRUSTED_ORIGINS": "",
    "CONN_MAX_AGE": "600",
    "CACHE_URL": "locmemcache://",
    "CACHE_TIMEOUT_SECONDS": "0.25",
    "CATALOG_CACHE_SECONDS": "300",
    "CHECKOUT_RATE_LIMIT_PER_IP": "30",
    "CHECKOUT_RATE_LIMIT_PER_SESSION": "10",
    "CHECKOUT_RATE_LIMIT_WINDOW": "600",
    "SUCCESS_PAGE_RATE_LIMIT_PER_IP": "60",
    "ORDER_PAGE_RATE_LIMIT_PER_IP": "60",
    "FIND_ORDERS_RATE_LIMIT_PER_IP": "10",
    "FIND_ORDERS_RATE_LIMIT_PER_EMAIL": "3",
    "DISCOUNT_CODE_RATE_LIMIT_PER_IP": "20",
    "NUM_PROXIES": "0",
    "TIME_ZONE": "UTC",
    "STATIC_ROOT": str(BASE_DIR / "staticfiles"),
    "ADMIN_URL": "admin/",
    "EMAIL_URL": "memorymail://",
    "DEFAULT_FROM_EMAIL": "Stripe Press <orders@stripe-press.test>",
    "STRIPE_SECRET_KEY": "sk_test_stripe_press_suite",
    "STRIPE_PUBLISHABLE_KEY": "pk_test_stripe_press_suite",
    "STRIPE_WEBHOOK_SECRET": "whsec_stripe_press_suite",
    "STRIPE_API_BASE": "",  # tests point at the emulator through the `stripe_emulator` fixture
    "STRIPE_MAX_NETWORK_RETRIES": "0",
    "STRIPE_TIMEOUT_SECONDS": "5",
    "STRIPE_PAGE_TIMEOUT_SECONDS": "2",
    "ORDER_ABANDON_AFTER_HOURS": "24",
    # Production security defaults, but plain HTTP for the test client and live server.
    "SECURE_SSL_REDIRECT": "False",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
    "SECURE_HSTS_PRELOAD": "True",
    "SESSION_COOKIE_SECURE": "False",
    "CSRF_COOKIE_SECURE": "False",
    "CSP_REPORT_ONLY": "False",
    "BEHIND_TLS_PROXY": "False",
    "LOG_LEVEL": "INFO",
    "LOG_FORMAT": "plain",
    "DB_CONNECT_TIMEOUT": "5",
    "HEALTHZ_TIMEOUT_SECONDS": "2",
    "LOGIN_FAILURE_LIMIT": "5",
    "LOGIN_LOCKOUT_MINUTES": "15",
    "SHIPPING_FLAT_AMOUNT": "499",
    "SHIPPING_FREE_FROM": "5000",
    "EMAIL_TIMEOUT": "10",
    "SITE_URL": "https://shop.stripe-press.test",
    "PORT": "8000",
    "SHOP_ADDRESS": "Stripe Press|1 Test Street|Testville, CA 94000|USA",
    # Tasks run inline where the order of effects is not the point; the tests about
    # the queue itself run a real db_worker (tests/tasks_worker.py) or RQ.
    "TASKS_BACKEND": "immediate",
    "TASKS_REDIS_URL": "redis://127.0.0.1:6379/9",
    "SHIPPING_COUNTRIES": (
        "US,CA,GB,AT,BE,BG,HR,CY,CZ,DK,EE,FI,FR,DE,GR,HU,IE,IT,LV,LT,LU,MT,NL,PL,PT,RO,SK,SI,ES,SE"
    ),
    "STOCK_RESERVATION_MINUTES": "30",
    "UNPAID_COPIES_PER_CLIENT": "10",
    # Uploads go to a folder of the suite's own; the S3 tests point a storage at their own server.
    "MEDIA_STORAGE": "local",
    "MEDIA_ROOT": str(BASE_DIR / "test-output" / "media"),
    "MEDIA_URL": "/media/",
    "AWS_STORAGE_BUCKET_NAME": "",
    "AWS_S3_REGION_NAME": "",
    "AWS_S3_ENDPOINT_URL": "",
    "AWS_S3_CUSTOM_DOMAIN": "",
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "IMPORT_FILES_ROOT": str(BASE_DIR / "test-output" / "imports"),
}
# Read from the environment on purpose: which database the suite runs on.
FROM_OUTSIDE = frozenset(["DATABASE_URL"])

os.environ.update(FORCED)

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
