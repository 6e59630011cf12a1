"""The one way the shop enqueues a background task (Django's Tasks API, the django-tasks backport).

Call `task_enqueue` inside the transaction of the change that owes the task
(or in autocommit). With the database backend (the default) the task is a
row written by that transaction: it commits or rolls back with the change,
and a worker (`manage.py db_worker`) takes it once committed. The immediate
backend (the tests) runs it there and then. With a backend outside the
database (RQ on Redis) the task is enqueued on commit instead, so a worker
never sees a change that is not there yet, nor one rolled back; a push lost
between the commit and Redis is caught by the owner's periodic re-queue
(`order_emails_requeue`, `webhook_events_requeue`).

`background_tasks_retry` runs failed tasks again for staff (the admin's Retry);
`background_task_lost` tells a task whose worker was killed mid-task.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task, TaskResult
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)


def task_enqueue(task: Task, *args) -> TaskResult | None:
    """Enqueue `task(*args)` with the transaction; its result, or None when it waits for the commit."""
    if isinstance(task.get_backend(), (DatabaseBackend, ImmediateBackend)):
        return task.enqueue(*args)  # in the caller's transaction
    transaction.on_commit(lambda: task.enqueue(*args), robust=True)
    return None


def background_tasks_retry(*, task_ids: list) -> int:
    """Enqueue a new run of each failed task among `task_ids`, with its arguments; how many.

    The failed row stays as it was (staff keep its error); the new run is a
    task of its own in the queue, through django-tasks' public `enqueue`.
    """
    from core.models import BackgroundTask  # the task admin's proxy: models load after this module

    retried = 0
    for row in BackgroundTask.objects.filter(pk__in=task_ids, status=TaskResultStatus.FAILED):
        failed = row.task_result
        failed.task.enqueue(*failed.args, **failed.kwargs)
        retried += 1
    logger.info("background_tasks_retried", extra={"count": retried})
    return retried


# A task still running this long after it started was lost: its worker was killed (or its
# host went down) mid-task. Far longer than any task runs: an email is bounded by
# EMAIL_TIMEOUT, a pass over received webhook events by APPLY_RECEIVED_PER_TASK events.
TASK_TIME_LIMIT = timedelta(minutes=15)


def background_task_lost(task, *, now: datetime | None = None) -> bool:
    """Whether the task (a queue row) is marked running but started longer than TASK_TIME_LIMIT ago.

    Nothing runs it any more. What it was doing is queued again by the periodic
    re-queues of its owners (webhook events still received, emails still unsent).
    """
    started = task.started_at
    limit_passed = started is not None and started < (now or timezone.now()) - TASK_TIME_LIMIT
    return task.status == TaskResultStatus.RUNNING and limit_passed


def background_tasks_lost_filter() -> dict:
    """The queryset filter of lost tasks (see `background_task_lost`)."""
    return {"status": TaskResultStatus.RUNNING, "started_at__lt": timezone.now() - TASK_TIME_LIMIT}
