"""Tests that need PostgreSQL (row locks, concurrent transactions): the marker and helpers.

    from tests.postgres import postgres_only

    @postgres_only
    def test_...(transactional_db): ...

The test carries the `postgres` marker (so `-m postgres` selects it) and is
skipped when the configured database is not PostgreSQL (SQLite has no row
locks to test). In CI (FAIL_ON_SKIP=1, PostgreSQL) such a skip fails the run.
"""

import json
import threading
import time

import pytest
from django.db import connection, connections


def database_is_postgres() -> bool:
    return connection.vendor == "postgresql"


def postgres_only(test):
    skip = pytest.mark.skipif(
        not database_is_postgres(), reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
    )
    return pytest.mark.postgres(skip(test))


def until(condition, timeout: float = 20.0) -> bool:
    """Whether `condition()` came true within `timeout` seconds (polled), for another session's doing."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_at_once(*calls) -> list:
    """Run each call in its own thread (its own database connection), all released together.

    Returns each call's result, or the exception it raised, in order.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported to the test, which checks what it expects
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def webhook_delivery(event: dict):
    """A call that POSTs `event`, signed, to the webhook; returns the outcome or the status code."""

    def post():
        from django.conf import settings
        from django.test import Client

        from payments.tests.signing import stripe_signature_header

        payload = json.dumps(event)
        response = Client().post(
            "/payments/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=stripe_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET),
        )
        return response.json().get("outcome", response.status_code)

    return post
