"""A task's database row written by the caller's own SQL statement, with the change that owes it (PostgreSQL).

With the database backend `task.enqueue()` writes the task as one row
(django-tasks-db's DBTaskResult) through the ORM: a statement, a round trip
and, in autocommit, a commit of its own. A caller that inserts a row and
must queue a task about it can write the task's row in its own statement
instead (a data-modifying CTE):

    task_insert = task_row_insert_sql(task, source="new WHERE ...")
    row = TaskRow(task)  # this row's id and time
    cursor.execute(f"WITH new AS (INSERT ... RETURNING id), task AS ({task_insert}) SELECT ...",
                   [*params_of_new, *row.params, *params_of_where])
    row.enqueued()  # after the statement, if it wrote the row (RETURNING gave its id)

The row is the one `enqueue` writes, built by django-tasks-db's own code:
the backend validates the task and picks the id; the model's defaults, its
pre_save receivers (which set run_after), its fields' pre_save (which
stamps enqueued_at) and their database preparation do the rest, as the
ORM's INSERT does; a worker cannot tell the two apart.

Built once per task and process (`_template`): two rows of one task differ
only in their id and the time they were queued, so those two are the
statement's parameters and every other column is written into the SQL as
a literal, rendered by the database adapter (no per-request building or
adapting of a dozen values a webhook does not change). Tasks without
arguments only: what the statement queues is "go and look", the rows it
wrote say what at. `enqueued` then sends django-tasks'
`task_enqueued` signal as `enqueue` does (its only receiver is
django-tasks' DEBUG log line; nothing in this project listens, but a
future receiver should not miss these tasks). No post_save is sent for
the row: the ORM never saved it.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models.signals import pre_save
from django.utils import timezone
from django_tasks.base import Task, TaskResult
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

# What differs between two rows of one task: the statement's parameters, in the table's column order.
PER_ROW = ("id", "enqueued_at")


def task_rows_in_database(task: Task) -> bool:
    """Whether `task` is queued as a database row (the database backend), so SQL can write it."""
    return isinstance(task.get_backend(), DatabaseBackend)


@dataclass(frozen=True)
class _Template:
    row: DBTaskResult  # as `enqueue` builds it
    literals: dict[str, str]  # column name -> its value as SQL, for the columns not PER_ROW
    per_row_fields: tuple  # the PER_ROW fields, in the table's column order
    backend: DatabaseBackend


@cache
def _template(task: Task, backend: DatabaseBackend) -> _Template:
    # As django-tasks-db's DatabaseBackend builds the row (backend.py, enqueue and _task_to_db_task).
    backend.validate_task(task)
    row = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": (), "kwargs": {}}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    # As the ORM's save() and INSERT prepare it.
    pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=connection.alias, update_fields=None)
    literals = {
        field.name: connection.ops.compose_sql(
            f"%s::{field.cast_db_type(connection)}",
            [field.get_db_prep_save(field.pre_save(row, add=True), connection)],
        )
        for field in DBTaskResult._meta.concrete_fields
        if field.name not in PER_ROW
    }
    per_row_fields = tuple(f for f in DBTaskResult._meta.concrete_fields if f.name in PER_ROW)
    return _Template(row=row, literals=literals, per_row_fields=per_row_fields, backend=backend)


@cache
def task_row_insert_sql(task: Task, *, source: str) -> str:
    """INSERT ... SELECT of a row of `task()` per row of `source` (what follows FROM: a table, a WHERE).

    Its parameters, in order: `TaskRow.params` (PER_ROW), then those of
    `source`. Each value is cast to its column's type, so the statement
    means the same with client- or server-side parameter binding. A row
    that a unique index of the table refuses is not written (ON CONFLICT DO
    NOTHING) and RETURNING gives nothing for it: a project's own index can
    say "one row of this task waiting at most" (the ids are new: the
    primary key never refuses one).
    """
    quote = connection.ops.quote_name
    literals = _template(task, task.get_backend()).literals
    values = [
        f"%s::{field.cast_db_type(connection)}" if field.name in PER_ROW else literals[field.name]
        for field in DBTaskResult._meta.concrete_fields
    ]
    return (
        f"INSERT INTO {quote(DBTaskResult._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in DBTaskResult._meta.concrete_fields)}) "
        f"SELECT {', '.join(values)} FROM {source} "
        f"ON CONFLICT DO NOTHING RETURNING {quote(DBTaskResult._meta.pk.column)}"
    )


class TaskRow:
    """One row of `task` to come: its id (the backend's choice) and the time it is queued (now)."""

    def __init__(self, task: Task):
        self.template = _template(task, task.get_backend())
        self.id = self.template.backend._get_id()
        self.enqueued_at: datetime = timezone.now()  # what the field's auto_now_add stamps
        values = {"id": self.id, "enqueued_at": self.enqueued_at}
        self.params = [
            field.get_db_prep_save(values[field.name], connection) for field in self.template.per_row_fields
        ]

    def enqueued(self) -> TaskResult:
        """Once the statement wrote the row: its TaskResult, announced as `enqueue` does."""
        template = self.template.row
        fields = DBTaskResult._meta.concrete_fields
        row = DBTaskResult(**{field.attname: getattr(template, field.attname) for field in fields})
        row.id, row.enqueued_at = self.id, self.enqueued_at
        result = row.task_result
        task_enqueued.send(type(self.template.backend), task_result=result)
        return result
