"""Logging for the web app and gunicorn: plain or JSON lines, secrets always masked.

A log call names its event in the message and passes its fields in `extra=`:
`logger.info("webhook_processed", extra={"event_id": ..., "outcome": ...})`.
The plain format (the default) writes them after the message as ` key=value`,
so a console stays readable; LOG_FORMAT=json (python-json-logger) writes one
JSON object per line: time, level, logger, message and the fields.

A redaction filter on every handler masks secrets (Stripe secret and
restricted keys, webhook signing secrets, PaymentIntent client secrets,
Authorization headers, passwords in URLs) in the message, its arguments, the
`extra` fields and tracebacks, whichever logger wrote them; so are the configured
values of SECRET_SETTINGS and database passwords, wherever they appear.
"""

import datetime
import logging
import re
import sys
from typing import Any

from django.core.exceptions import ImproperlyConfigured

LOG_FORMATS = ("plain", "json")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "[REDACTED]"

SECRET_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Secret and restricted API keys (publishable pk_ keys are public by design).
    (re.compile(r"\b(sk|rk)_(live|test)_[0-9A-Za-z]+"), rf"\1_\2_{REDACTED}"),
    # Webhook endpoint signing secrets.
    (re.compile(r"\bwhsec_[0-9A-Za-z+/=]+"), f"whsec_{REDACTED}"),
    # PaymentIntent / SetupIntent client secrets: the id stays, the secret goes.
    (re.compile(r"\b((?:pi|seti)_[0-9A-Za-z]+)_secret_[0-9A-Za-z]+"), rf"\1_secret_{REDACTED}"),
    # Authorization headers, as text or in a dict / WSGI environ dump.
    (
        re.compile(
            r"(?<![A-Za-z])((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            r"(?:(?:bearer|basic|token)\s+)?[^\s\"',;}]+",
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    # Credentials in URLs (smtp://user:password@host, postgres://...).
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", re.IGNORECASE), rf"\1{REDACTED}@"),
    (
        re.compile(r"\b(password|passwd)([\"']?\s*[:=]\s*[\"']?)[^\s\"',;}&]+", re.IGNORECASE),
        rf"\1\2{REDACTED}",
    ),
]

# Attributes every LogRecord has; anything else came from `extra`.
RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# `extra` fields named like these are masked whole.
_SENSITIVE_KEY = re.compile(r"auth|secret|passw|token|api_key|signature", re.IGNORECASE)
# Django's own extras on django.server / django.request lines: the message
# already says them, so the plain format leaves them out.
_PLAIN_SKIPS = frozenset({"request", "server_time"})


# Settings whose values are masked wherever they appear, even without a telltale prefix.
SECRET_SETTINGS = (
    "SECRET_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "EMAIL_HOST_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
)


def _configured_secrets() -> list[str]:
    from django.conf import settings

    if not settings.configured:  # e.g. gunicorn's master process, before Django starts
        return []
    values = [getattr(settings, name, "") for name in SECRET_SETTINGS]
    values += [db.get("PASSWORD", "") for db in getattr(settings, "DATABASES", {}).values()]
    # Short values would mask ordinary words (a development password "postgres").
    return [value for value in values if isinstance(value, str) and len(value) >= 12]


def redact(text: str) -> str:
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    for secret in _configured_secrets():
        text = text.replace(secret, REDACTED)
    return text


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed in `extra=`."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in RECORD_ATTRIBUTES and not key.startswith("_")
    }


def json_default(value: Any) -> Any:
    """How a field that is not a JSON type is written: as masked text.

    A request (Django's django.request / django.server extras) is its method
    and path, never its query string (the success page's carries a client secret).
    """
    if isinstance(value, datetime.date | datetime.time):  # the `time` field among them
        return value.isoformat()
    if hasattr(value, "method") and hasattr(value, "path"):
        return f"{value.method} {value.path}"
    return redact(str(value))


class RedactSecretsFilter(logging.Filter):
    """Masks secrets in the record before any handler formats it.

    The message is rendered with its arguments and redacted, so a secret
    passed as an argument is masked too; the record then carries no args.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let the handler report it
            return True
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            # Formatters then write the masked text instead of formatting the exception again.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if _SENSITIVE_KEY.search(key):
                setattr(record, key, REDACTED)
            elif isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def _plain_value(value: Any) -> str:
    text = json_default(value) if not isinstance(value, str | int | float | bool | type(None)) else str(value)
    return f'"{text}"' if not text or any(char.isspace() or char == "=" for char in text) else text


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger event k=v k=v`: the `extra` fields after the message, for a console."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        fields = "".join(
            f" {key}={_plain_value(value)}"
            for key, value in extra_fields(record).items()
            if key not in _PLAIN_SKIPS
        )
        return super().formatMessage(record) + fields


# python-json-logger, with the field names log collectors expect.
JSON_FORMATTER = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s",
    "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "exception", "stack_info": "stack"},
    "timestamp": "time",
    "json_default": "ext://config.logging.json_default",
    "json_ensure_ascii": False,
}


class StdStreamHandler(logging.StreamHandler):
    """Writes to sys.stderr or sys.stdout as they are at each write.

    A plain StreamHandler keeps the stream it was configured with; test
    runners and tools that swap (and close) sys.stderr would leave it writing
    to a closed file.
    """

    def __init__(self, stream_name: str = "stderr"):
        self.stream_name = stream_name
        super().__init__()

    @property
    def stream(self):
        return getattr(sys, self.stream_name)

    @stream.setter
    def stream(self, value) -> None:
        pass  # always the current sys stream


def logging_config(*, level: str = "INFO", log_format: str = "plain") -> dict:
    """The dictConfig for Django (settings.LOGGING) and gunicorn (logconfig_dict)."""
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {log_format!r}.")
    formatter = (
        JSON_FORMATTER
        if log_format == "json"
        else {"()": "config.logging.PlainFormatter", "fmt": PLAIN_FORMAT}
    )

    def handler(stream_name: str) -> dict:
        return {
            "class": "config.logging.StdStreamHandler",
            "stream_name": stream_name,
            "formatter": "main",
            "filters": ["redact_secrets"],
        }

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"redact_secrets": {"()": "config.logging.RedactSecretsFilter"}},
        "formatters": {"main": formatter},
        # Application and error logs to stderr, access logs to stdout.
        "handlers": {"console": handler("stderr"), "access": handler("stdout")},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replaces Django's default handlers (unfiltered) with the root's.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.server": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "django.db.backends": {"level": "INFO"},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            # stripe-python logs two INFO lines per API call; its warnings still show.
            "stripe": {"level": "WARNING"},
            # django-axes: its failed-sign-in and lockout lines are warnings; its INFO is chatter.
            "axes": {"level": "WARNING"},
        },
    }
