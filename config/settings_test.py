"""Settings for the test suite: production settings with hermetic defaults.

The developer's `.env` is never read here, so real keys cannot leak into tests;
DATABASE_URL from the environment still applies (PostgreSQL in CI).
"""

import os

os.environ["ENV_FILE"] = ""
os.environ.setdefault("DEBUG", "False")
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x7Qp2Lm9" * 8)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("SESSION_COOKIE_SECURE", "False")
os.environ.setdefault("CSRF_COOKIE_SECURE", "False")
os.environ.setdefault("STRIPE_SECRET_KEY", "sk_test_stripe_press_suite")
os.environ.setdefault("STRIPE_PUBLISHABLE_KEY", "pk_test_stripe_press_suite")
os.environ.setdefault("STRIPE_WEBHOOK_SECRET", "whsec_stripe_press_suite")
os.environ.setdefault("STRIPE_MAX_NETWORK_RETRIES", "0")
os.environ.setdefault("STRIPE_TIMEOUT_SECONDS", "5")
os.environ.setdefault("EMAIL_URL", "memorymail://")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
