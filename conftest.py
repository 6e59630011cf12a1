"""Fixtures shared by every test package: the Stripe emulator and signing helpers."""

import os
from pathlib import Path

import pytest

from tools.emulator import emulator_start

TEST_OUTPUT = Path(__file__).resolve().parent / "test-output"


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


def pytest_sessionfinish(session, exitstatus):
    """With FAIL_ON_SKIP=1 (CI), any skipped test fails the run."""
    if not os.environ.get("FAIL_ON_SKIP"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAIL_ON_SKIP: {skipped} test(s) were skipped; failing the run.", red=True)
        session.exitstatus = 1
