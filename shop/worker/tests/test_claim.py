"""The worker's claim reads the queue's index in order, even on a table PostgreSQL never analyzed.

The test database's tables are new and never analyzed: the case where,
without the claim's settings, PostgreSQL sorts every waiting task per claim.
"""

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shop.worker.claim import claim_on_queue_index, is_claim
from tests.postgres import postgres_only

WAITING = 3000


@pytest.fixture
def waiting_tasks(transactional_db):
    """Committed, as a worker sees them; each claim below is its own transaction, as the worker's is."""
    now = timezone.now()
    DBTaskResult.objects.bulk_create(
        DBTaskResult(
            args_kwargs={"args": [number], "kwargs": {}},
            task_path="payments.tasks.webhook_event_apply",
            backend_name="default",
            run_after=now,
        )
        for number in range(WAITING)
    )


def claim_plan() -> str:
    """The plan of django-tasks-db's worker's claim (its queryset, as db_worker builds it)."""
    ready = DBTaskResult.objects.ready().filter(backend_name="default", queue_name__in=["default"])
    with transaction.atomic():
        return ready.select_for_update(skip_locked=True).explain()


@postgres_only
def test_the_claim_uses_the_queue_index_in_order_and_sorts_nothing(waiting_tasks):
    unguided = claim_plan()
    with connection.execute_wrapper(claim_on_queue_index):
        guided = claim_plan()

    assert "Sort" in unguided  # what the settings are for: every waiting task read and sorted
    assert "Index Scan using tasks_db_new_ordering_idx" in guided
    assert "Sort" not in guided


@postgres_only
def test_the_settings_end_with_the_claims_transaction(waiting_tasks):
    with connection.execute_wrapper(claim_on_queue_index):
        claim_plan()
        with connection.cursor() as cursor:
            cursor.execute("SHOW enable_sort")
            assert cursor.fetchone() == ("on",)


@postgres_only
def test_the_worker_claims_the_oldest_task_first(waiting_tasks):
    ready = DBTaskResult.objects.ready().filter(backend_name="default")
    with connection.execute_wrapper(claim_on_queue_index), transaction.atomic():
        claimed = ready.get_locked()
    assert claimed.status == TaskResultStatus.READY
    assert claimed.pk == DBTaskResult.objects.order_by(*DBTaskResult._meta.ordering).first().pk


def test_only_the_claim_is_recognised():
    table = f'"{DBTaskResult._meta.db_table}"'
    assert is_claim(f"SELECT * FROM {table} WHERE x ORDER BY y LIMIT 1 FOR UPDATE SKIP LOCKED")
    assert not is_claim(f"SELECT * FROM {table} WHERE x ORDER BY y LIMIT 1 FOR UPDATE")
    assert not is_claim('SELECT * FROM "orders_order" LIMIT 1 FOR UPDATE SKIP LOCKED')


@pytest.fixture
def in_process_worker_state():
    """The command, run in this process, sets signal handlers and log levels: put them back."""
    import logging
    import signal

    signals = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    loggers = {name: logging.getLogger(name) for name in ("django_tasks", "django_tasks_db")}
    levels = {name: (log.level, list(log.handlers)) for name, log in loggers.items()}
    yield
    for number, handler in signals.items():
        signal.signal(number, handler)
    for name, (level, handlers) in levels.items():
        loggers[name].setLevel(level)
        loggers[name].handlers[:] = handlers


@postgres_only
def test_the_db_worker_command_claims_through_the_wrapper(
    settings, transactional_db, monkeypatch, in_process_worker_state
):
    from django.core.management import call_command

    from payments.tasks import webhook_event_apply
    from shop.worker.management.commands import db_worker
    from tests.tasks_worker import DATABASE_TASKS

    settings.TASKS = DATABASE_TASKS
    claims = []

    def recording(execute, sql, params, many, context):
        if is_claim(sql):
            claims.append(sql)
        return claim_on_queue_index(execute, sql, params, many, context)

    monkeypatch.setattr(db_worker, "claim_on_queue_index", recording)
    result = webhook_event_apply.enqueue(0)  # no such event: the task returns "missing"

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")

    task = DBTaskResult.objects.get(pk=result.id)
    assert (task.status, task.return_value) == (TaskResultStatus.SUCCESSFUL, "missing")
    assert len(claims) == 2  # this task, then the empty queue that ends the batch
