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
"""

from django.db import transaction
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task, TaskResult
from django_tasks_db import DatabaseBackend


def task_enqueue(task: Task, *args) -> TaskResult | None:
    """Enqueue `task(*args)` with the transaction; its result, or None when it waits for the commit."""
    if isinstance(task.get_backend(), (DatabaseBackend, ImmediateBackend)):
        return task.enqueue(*args)  # in the caller's transaction
    transaction.on_commit(lambda: task.enqueue(*args), robust=True)
    return None
