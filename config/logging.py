"""Logging for the web app and gunicorn: plain or JSON lines, secrets always masked.

Log lines keep the project's shape, "event key=value ...". With
LOG_FORMAT=json each record becomes one JSON object per line: time, level,
logger, message, the event name and its key=value pairs, plus any `extra`
fields. A redaction filter on every handler masks secrets (Stripe secret and
restricted keys, webhook signing secrets, PaymentIntent client secrets,
Authorization headers, passwords in URLs) in the message, its arguments, the
`extra` fields and tracebacks, whichever logger wrote them; so are the configured
values of SECRET_SETTINGS and database passwords, wherever they appear.
"""

import json
import logging
import re
import sys
from datetime import UTC, datetime
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
_RECORD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# `extra` fields named like these are masked whole.
_SENSITIVE_KEY = re.compile(r"auth|secret|passw|token|api_key|signature", re.IGNORECASE)
_KEY_VALUE = re.compile(r"(?:^|\s)([a-z_][a-z0-9_]*)=(\"[^\"]*\"|\S*)")
_EVENT = re.compile(r"^([a-z][a-z0-9_]*)(?:\s|$)")


# Settings whose values are masked wherever they appear, even without a telltale prefix.
SECRET_SETTINGS = ("SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "EMAIL_HOST_PASSWORD")


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
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in list(vars(record).items()):
            if key in _RECORD_ATTRIBUTES or not isinstance(value, str):
                continue
            setattr(record, key, REDACTED if _SENSITIVE_KEY.search(key) else redact(value))
        return True


def message_fields(message: str) -> dict[str, str]:
    """The leading event name and the key=value pairs of a log message.

    "webhook_processed event=evt_1 outcome=processed" ->
    {"event_name": "webhook_processed", "event": "evt_1", "outcome": "processed"}
    """
    fields: dict[str, str] = {}
    match = _EVENT.match(message)
    if match:
        fields["event_name"] = match.group(1)
    for key, value in _KEY_VALUE.findall(message):
        fields.setdefault(key, value[1:-1] if value.startswith('"') and value.endswith('"') else value)
    return fields


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "method") and hasattr(value, "path"):  # a request: never its query string
        return f"{value.method} {value.path}"
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then the fields."""

    reserved = ("time", "level", "logger", "message", "exception", "stack")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        extra = {
            key: _jsonable(value)
            for key, value in vars(record).items()
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
        }
        for key, value in {**message_fields(message), **extra}.items():
            if key not in self.reserved:
                entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


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
    formatter = {"()": "config.logging.JsonFormatter"} if log_format == "json" else {"format": PLAIN_FORMAT}

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
        },
    }
