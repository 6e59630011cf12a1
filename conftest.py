"""Fixtures shared by every test package: the Stripe emulator, signing helpers, the database tasks backend."""

import os
from pathlib import Path

import pytest

from payments.tests.fakes import stripe_outage  # noqa: F401  (fixture for every test package)
from payments.tests.signing import stripe_signature_header
from tests.tasks_worker import DATABASE_TASKS
from tools.emulator import emulator_start

TEST_OUTPUT = Path(__file__).resolve().parent / "test-output"


@pytest.fixture
def database_tasks(settings, transactional_db):
    """Production's task setup: the database backend, data committed (workers are other processes)."""
    settings.TASKS = DATABASE_TASKS


@pytest.fixture(scope="session")
def localstripe():
    """A real localstripe (patched, see tools/localstripe_server.py) on a free port."""
    TEST_OUTPUT.mkdir(exist_ok=True)
    emulator = emulator_start(log_path=TEST_OUTPUT / "localstripe.log")
    yield emulator
    emulator.stop()


@pytest.fixture
def stripe_emulator(localstripe, settings):
    """Point the app at the emulator for this test."""
    settings.STRIPE_API_BASE = localstripe.url
    return localstripe


@pytest.fixture
def emulator_webhooks(stripe_emulator, live_server, settings):
    """The emulator sends its signed events to this test's live server.

    localstripe sends each event to every registered URL; registering under
    one fixed name replaces the previous registration. The live server lives
    for the whole session, so afterwards events still on their way
    (localstripe waits a second) go to a closed port instead of into a later
    test's database.
    """
    secret = settings.STRIPE_WEBHOOK_SECRET
    stripe_emulator.register_webhook(url=f"{live_server.url}/payments/webhook/", secret=secret)
    yield stripe_emulator
    stripe_emulator.register_webhook(url="http://127.0.0.1:9/after-the-test/", secret=secret)


@pytest.fixture(autouse=True)
def limiter_clock(monkeypatch):
    """The rate limiter's windows are fixed slices of the wall clock: a test that happened to cross
    a boundary (every 10 minutes) would see its count start again. Each test runs inside one window;
    tests of the windows themselves move this clock (payments/tests/test_ratelimit.py)."""
    import types

    from core import ratelimit

    clock = types.SimpleNamespace(time=lambda: 600.0 * 1_700_000 + 300)  # mid-window
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def media_root(tmp_path):
    """Uploaded files (book covers) go to a folder of this test's own. (Not through the `settings`
    fixture: that would set it up before other autouse fixtures and so restore it after them.)"""
    from django.test import override_settings

    with override_settings(MEDIA_ROOT=tmp_path / "media"):
        yield tmp_path / "media"


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    """Every test starts with an empty cache and an empty per-process fallback counter: rate-limit
    counters live there, and the whole suite calls the shop from the same 127.0.0.1."""
    from django.core.cache import cache

    from core import ratelimit

    cache.clear()
    monkeypatch.setattr(ratelimit, "process_counter", ratelimit.ProcessCounter())


def pytest_sessionfinish(session, exitstatus):
    """With FAIL_ON_SKIP=1 (CI), any skipped test fails the run."""
    if not os.environ.get("FAIL_ON_SKIP"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAIL_ON_SKIP: {skipped} test(s) were skipped; failing the run.", red=True)
        session.exitstatus = 1


@pytest.fixture
def post_webhook(client, settings):
    """POST a Stripe event (dict) to the webhook endpoint, signed for our secret."""
    import json

    from django.urls import reverse

    def post(
        event: dict, *, secret: str | None = None, timestamp: int | None = None, body: str | None = None
    ):
        payload = body if body is not None else json.dumps(event)
        header = stripe_signature_header(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
        return client.post(
            reverse("payments:webhook"),
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )

    return post
