"""Structured logs: JSON lines that parse, and secrets masked wherever they appear."""

import io
import json
import logging
import logging.config
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.logging import (
    PLAIN_FORMAT,
    RedactSecretsFilter,
    StdStreamHandler,
    logging_config,
    redact,
)

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "sk_live_51HxAbCdEfGhIjKlMnOpQrStUv"
RESTRICTED_KEY = "rk_test_51HxZyXwVuTsRqPoNm"
WEBHOOK_SECRET = "whsec_3fA9zQ0pLm7Wn2Xc"
CLIENT_SECRET = "pi_3PqRsTuV1234_secret_9aBcDeFgHiJk"
SECRETS = [
    "51HxAbCdEfGhIjKlMnOpQrStUv",
    "51HxZyXwVuTsRqPoNm",
    "3fA9zQ0pLm7Wn2Xc",
    "9aBcDeFgHiJk",
    "dXNlcjpodW50ZXIy",
    "hunter2",
    "k3V9-pQ2xZr7",
]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked in: {text}"


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        (f"key={SECRET_KEY}", "key=sk_live_[REDACTED]"),
        (f"key={RESTRICTED_KEY}", "key=rk_test_[REDACTED]"),
        (f"secret={WEBHOOK_SECRET}", "secret=whsec_[REDACTED]"),
        (f"/payments/success/?payment_intent_client_secret={CLIENT_SECRET}&x=1",
         "/payments/success/?payment_intent_client_secret=pi_3PqRsTuV1234_secret_[REDACTED]&x=1"),
        ("Authorization: Bearer sk_test_abc123", "Authorization: [REDACTED]"),
        ("{'HTTP_AUTHORIZATION': 'Basic dXNlcjpodW50ZXIy', 'x': 1}",
         "{'HTTP_AUTHORIZATION': '[REDACTED]', 'x': 1}"),
        ('{"authorization": "Bearer abc.def"}', '{"authorization": "[REDACTED]"}'),
        ("smtp+tls://orders:hunter2@smtp.example.com:587", "smtp+tls://orders:[REDACTED]@smtp.example.com:587"),
        ("password=hunter2 user=ada", "password=[REDACTED] user=ada"),
    ],
)  # fmt: skip
def test_redact(raw, masked):
    assert redact(raw) == masked


def test_identifiers_and_public_keys_stay_readable():
    text = "order=SP-ABCD2345 payment_intent=pi_3PqRsTuV1234 event=evt_1Abc key=pk_live_51HxPublic"
    assert redact(text) == text


def formatter(log_format: str) -> logging.Formatter:
    """The formatter logging_config builds for this LOG_FORMAT."""
    configurator = logging.config.DictConfigurator(logging_config(log_format=log_format))
    return configurator.configure_formatter(configurator.config["formatters"]["main"])


def capture(log_format: str = "json") -> tuple[logging.Logger, io.StringIO]:
    """A logger with one handler configured the way logging_config configures them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(formatter(log_format))
    logger = logging.getLogger(f"tests.logging.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secrets_in_args_extra_and_tracebacks_are_masked():
    logger, stream = capture("json")
    logger.info("stripe_client_built key=%s", SECRET_KEY)
    logger.warning("success_page", extra={"url": f"/payments/success/?s={CLIENT_SECRET}"})
    logger.info("webhook_config", extra={"webhook_secret": WEBHOOK_SECRET, "auth": "Basic dXNlcjpodW50ZXIy"})
    try:
        raise RuntimeError(f"Invalid API key provided: {RESTRICTED_KEY}")
    except RuntimeError:
        logger.exception("stripe_error", extra={"action": "payment_intent.create"})
    output = stream.getvalue()
    assert_no_secret(output)
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines[0]["message"] == "stripe_client_built key=sk_live_[REDACTED]"
    assert lines[1]["url"] == "/payments/success/?s=pi_3PqRsTuV1234_secret_[REDACTED]"
    assert lines[2]["webhook_secret"] == lines[2]["auth"] == "[REDACTED]"  # sensitive names: masked whole
    assert "rk_test_[REDACTED]" in lines[3]["exception"]
    assert lines[3]["action"] == "payment_intent.create"


def test_plain_lines_carry_the_extra_fields_after_the_message():
    logger, stream = capture("plain")
    logger.error(
        "checkout_failed",
        extra={
            "url": f"https://shop.example.com/payments/success/?s={CLIENT_SECRET}",
            "order": "SP-ABCD2345",
            "amount": 2300,
            "reason": "two words",
        },
    )
    line = stream.getvalue()
    assert line.endswith(
        f" ERROR {logger.name} checkout_failed"
        ' url="https://shop.example.com/payments/success/?s=pi_3PqRsTuV1234_secret_[REDACTED]"'
        ' order=SP-ABCD2345 amount=2300 reason="two words"\n'
    )
    assert PLAIN_FORMAT.startswith("%(asctime)s")


def test_json_lines_carry_time_level_logger_message_and_the_extra_fields():
    logger, stream = capture("json")
    logger.info(
        "webhook_processed",
        extra={"event_id": "evt_1Abc", "order": "SP-ABCD2345", "outcome": "processed", "attempt": 2},
    )
    line = json.loads(stream.getvalue())
    assert line["level"] == "INFO"
    assert line["logger"] == logger.name
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert line["message"] == "webhook_processed"
    assert (line["event_id"], line["order"], line["outcome"], line["attempt"]) == (
        "evt_1Abc",
        "SP-ABCD2345",
        "processed",
        2,
    )
    assert "levelname" not in line and "args" not in line  # only what the call said


def test_a_request_in_extra_is_its_method_and_path_never_its_query():
    from django.test import RequestFactory

    request = RequestFactory().get("/payments/success/", {"payment_intent_client_secret": CLIENT_SECRET})
    json_logger, json_stream = capture("json")
    json_logger.warning("Bad Request: /payments/success/", extra={"status_code": 400, "request": request})
    plain_logger, plain_stream = capture("plain")
    plain_logger.warning("Bad Request: /payments/success/", extra={"status_code": 400, "request": request})
    assert json.loads(json_stream.getvalue())["request"] == "GET /payments/success/"
    assert plain_stream.getvalue().endswith("Bad Request: /payments/success/ status_code=400\n")
    assert_no_secret(json_stream.getvalue() + plain_stream.getvalue())


def test_chatty_libraries_log_warnings_only():
    assert logging_config()["loggers"]["stripe"]["level"] == "WARNING"
    assert logging_config()["loggers"]["axes"]["level"] == "WARNING"


def test_every_configured_handler_redacts():
    for log_format in ("plain", "json"):
        config = logging_config(log_format=log_format)
        for name, handler in config["handlers"].items():
            assert handler["filters"] == ["redact_secrets"], name
        assert config["loggers"]["django"]["handlers"] == []  # Django's own handlers replaced
    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT"):
        logging_config(log_format="xml")


def test_no_handler_in_this_process_logs_unfiltered():
    """Settings' LOGGING is live: every handler on every logger carries the filter."""
    loggers = [logging.getLogger(), *[logging.getLogger(name) for name in logging.root.manager.loggerDict]]
    handlers = {h for logger in loggers for h in getattr(logger, "handlers", [])}
    # pytest's capture handlers and libraries' NullHandlers aside:
    ours = [
        h
        for h in handlers
        if not type(h).__module__.startswith("_pytest") and type(h) is not logging.NullHandler
    ]
    assert ours, "no handler found"
    for handler in ours:
        assert any(isinstance(f, RedactSecretsFilter) for f in handler.filters), handler


def test_log_format_json_in_a_configured_process(tmp_path):
    """LOG_FORMAT=json wires the JSON formatter and the filter into the real handlers."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('payments.services.webhooks').info("
        f"'webhook_processed', extra={{'event_id': 'evt_9', 'note': 'secret {WEBHOOK_SECRET}'}}); "
        f"logging.getLogger('django.request').warning('Bad Request: /x', extra={{'status_code': 400}}); "
        "from django.conf import settings; "
        "logging.getLogger('config').info('smtp password=%s', settings.EMAIL_HOST_PASSWORD); "
        "logging.getLogger('config').info('secret_key %s', settings.SECRET_KEY)"
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "SECRET_KEY": "k3V9-pQ2xZr7_Lm4Ws8Yt1Nb6Hc0Jd5Fg2Ae9Uo3Iy7Tr4Ex1Wq8Kp6Mn0Bv5Cz",
        "ALLOWED_HOSTS": "shop.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_URL": "smtp+tls://orders:hunter2@smtp.example.com:587",
        "LOG_FORMAT": "json",
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [line["logger"] for line in lines] == [
        "payments.services.webhooks",
        "django.request",
        "config",
        "config",
    ]
    assert lines[0]["message"] == "webhook_processed" and lines[0]["note"] == "secret whsec_[REDACTED]"
    assert lines[1]["status_code"] == 400
    assert lines[2]["message"] == "smtp password=[REDACTED]"
    assert lines[3]["message"] == "secret_key [REDACTED]"  # configured secrets, even bare
    assert_no_secret(result.stderr)


def test_handlers_follow_sys_stderr_when_it_is_swapped(monkeypatch):
    """A tool that swaps and closes sys.stderr (a test runner's capture) never breaks logging."""
    handler = StdStreamHandler("stderr")
    handler.setFormatter(logging.Formatter("%(message)s"))
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    handler.emit(logging.makeLogRecord({"msg": "one"}))
    first.close()
    monkeypatch.setattr(sys, "stderr", second)
    handler.emit(logging.makeLogRecord({"msg": "two"}))
    assert second.getvalue() == "two\n"
