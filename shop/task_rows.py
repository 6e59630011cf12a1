"""A task's database row written by the caller's own SQL statement, with the change that owes it (PostgreSQL).

With the database backend `task.enqueue()` writes the task as one row
(django-tasks-db's DBTaskResult) through the ORM: a statement, a round trip
and, in autocommit, a commit of its own. A caller that inserts a row and
must queue a task about it can write the task's row in its own statement
instead (a data-modifying CTE):

    row = TaskRow(task)  # the row, its first argument to come
    task_insert = task_row_insert_sql(source="new", first_arg="new.id")
    cursor.execute(f"WITH new AS (INSERT ... RETURNING id), task AS ({task_insert}) SELECT ...",
                   [*params_of_new, *row.params])
    row.enqueued(new_id)  # after the statement, if it wrote the row

The row is the one `enqueue` writes, built by django-tasks-db's own code:
the backend validates the task and picks the id; the model's defaults, its
pre_save receivers (which set run_after), its fields' pre_save (which
stamps enqueued_at) and their database preparation do the rest, as the
ORM's INSERT does; a worker cannot tell the two apart. Only the first
argument arrives another way: SQL writes it, a value the statement itself
makes (the id of the row it inserted). `enqueued` then sends django-tasks'
`task_enqueued` signal as `enqueue` does (its only receiver is django-tasks'
DEBUG log line; nothing in this project listens, but a future receiver
should not miss these tasks). No post_save is sent for the row: the ORM
never saved it.
"""

from functools import cache

from django.db import connection
from django.db.models.signals import pre_save
from django_tasks.base import Task, TaskResult
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult

# Written in the template, then over by SQL (jsonb_set): a stand-in for the first argument.
FIRST_ARG_STAND_IN = 0


def task_rows_in_database(task: Task) -> bool:
    """Whether `task` is queued as a database row (the database backend), so SQL can write it."""
    return isinstance(task.get_backend(), DatabaseBackend)


@cache
def task_row_insert_sql(*, source: str, first_arg: str) -> str:
    """INSERT ... SELECT of one task row per row of `source` (what follows FROM: a table or CTE, a WHERE).

    `first_arg` is the SQL expression written as the task's first argument
    (a CTE's id column, say). Its parameters, in order: `TaskRow.params`,
    then those of `source`. Each value is cast to its column's type, so the
    statement means the same with client- or server-side parameter binding.
    """
    quote = connection.ops.quote_name
    meta = DBTaskResult._meta
    args_kwargs = meta.get_field("args_kwargs")
    values = [
        f"jsonb_set(%s::jsonb, '{{args,0}}', to_jsonb({first_arg}))"
        if field is args_kwargs
        else f"%s::{field.cast_db_type(connection)}"
        for field in meta.concrete_fields
    ]
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in meta.concrete_fields)}) "
        f"SELECT {', '.join(values)} FROM {source} "
        f"RETURNING {quote(meta.pk.column)}"
    )


class TaskRow:
    """The row `task.enqueue(<first arg>, *other_args)` writes, for `task_row_insert_sql` to insert."""

    def __init__(self, task: Task, *other_args):
        # As django-tasks-db's DatabaseBackend builds it (backend.py, enqueue and _task_to_db_task).
        backend = task.get_backend()
        backend.validate_task(task)
        row = DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json({"args": (FIRST_ARG_STAND_IN, *other_args), "kwargs": {}}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=backend.alias,
        )
        # As the ORM's save() and INSERT prepare it.
        pre_save.send(
            sender=DBTaskResult, instance=row, raw=False, using=connection.alias, update_fields=None
        )
        self.params = [
            field.get_db_prep_save(field.pre_save(row, add=True), connection)
            for field in DBTaskResult._meta.concrete_fields
        ]
        self.row = row
        self.backend = backend

    def enqueued(self, first_arg) -> TaskResult:
        """Once the statement wrote the row: its TaskResult, announced as `enqueue` does."""
        args_kwargs = self.row.args_kwargs
        self.row.args_kwargs = {**args_kwargs, "args": [first_arg, *args_kwargs["args"][1:]]}
        result = self.row.task_result
        task_enqueued.send(type(self.backend), task_result=result)
        return result
