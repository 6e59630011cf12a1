"""Structured logs: JSON lines that parse, and secrets masked wherever they appear."""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.logging import (
    JsonFormatter,
    RedactSecretsFilter,
    StdStreamHandler,
    logging_config,
    message_fields,
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


def capture(formatter: logging.Formatter | None = None) -> tuple[logging.Logger, io.StringIO]:
    """A logger with one handler configured the way logging_config configures them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(formatter or logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"tests.logging.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def test_secrets_in_args_extra_and_tracebacks_are_masked():
    logger, stream = capture(JsonFormatter())
    logger.info("stripe_client_built key=%s", SECRET_KEY)
    logger.warning("success_page client_secret=%(secret)s", {"secret": CLIENT_SECRET})
    logger.info("webhook_config", extra={"webhook_secret": WEBHOOK_SECRET, "auth": "Basic dXNlcjpodW50ZXIy"})
    try:
        raise RuntimeError(f"Invalid API key provided: {RESTRICTED_KEY}")
    except RuntimeError:
        logger.exception("stripe_error action=payment_intent.create")
    output = stream.getvalue()
    assert_no_secret(output)
    lines = [json.loads(line) for line in output.splitlines()]
    assert lines[0]["key"] == "sk_live_[REDACTED]"
    assert lines[1]["client_secret"] == "pi_3PqRsTuV1234_secret_[REDACTED]"
    assert lines[2]["webhook_secret"] == lines[2]["auth"] == "[REDACTED]"  # sensitive names: masked whole
    assert "rk_test_[REDACTED]" in lines[3]["exception"]


def test_plain_lines_are_masked_too():
    logger, stream = capture()
    logger.error("checkout_failed url=%s", f"https://shop.example.com/payments/success/?s={CLIENT_SECRET}")
    assert stream.getvalue() == (
        "ERROR checkout_failed url=https://shop.example.com/payments/success/?s=pi_3PqRsTuV1234_secret_[REDACTED]\n"
    )


def test_json_lines_carry_time_level_logger_message_and_fields():
    logger, stream = capture(JsonFormatter())
    logger.info(
        "webhook_processed event=%s type=%s payment_intent=%s order=%s outcome=%s",
        "evt_1Abc",
        "payment_intent.succeeded",
        "pi_3PqRsTuV1234",
        "SP-ABCD2345",
        "processed",
        extra={"attempt": 2},
    )
    logger.warning('note reason="two words" empty=')
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO"
    assert first["logger"] == logger.name
    assert first["time"].endswith("+00:00") and "T" in first["time"]
    assert first["message"].startswith("webhook_processed event=evt_1Abc")
    assert first["event_name"] == "webhook_processed"
    assert (first["event"], first["payment_intent"], first["order"], first["outcome"]) == (
        "evt_1Abc",
        "pi_3PqRsTuV1234",
        "SP-ABCD2345",
        "processed",
    )
    assert first["attempt"] == 2
    assert (second["reason"], second["empty"], second["level"]) == ("two words", "", "WARNING")


def test_message_fields_never_override_the_record():
    logger, stream = capture(JsonFormatter())
    logger.info("forged level=DEBUG logger=evil time=0 message=x")
    line = json.loads(stream.getvalue())
    assert (line["level"], line["logger"]) == ("INFO", logger.name)
    assert line["message"] == "forged level=DEBUG logger=evil time=0 message=x"
    assert message_fields("order_transition order=SP-1 from=pending to=paid") == {
        "event_name": "order_transition",
        "order": "SP-1",
        "from": "pending",
        "to": "paid",
    }


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
        f"'webhook_processed event=evt_9 secret=%s outcome=processed', '{WEBHOOK_SECRET}'); "
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
    assert lines[0]["event_name"] == "webhook_processed" and lines[0]["secret"] == "whsec_[REDACTED]"
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
