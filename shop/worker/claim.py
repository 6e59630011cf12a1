"""The worker's claim of the next task, planned on the queue's index whatever the table's statistics.

django-tasks-db's worker claims a task with

    SELECT ... FROM django_tasks_database_dbtaskresult
    WHERE status = 'READY' AND <run_after due> AND backend_name = ...
    ORDER BY priority DESC, run_after, enqueued_at LIMIT 1 FOR UPDATE SKIP LOCKED

which its partial index tasks_db_new_ordering_idx answers in order, stopping
at the first row. But PostgreSQL picks that plan only when the table's
statistics say many rows are READY. On a table never analyzed (a new
install; autovacuum off; a burst since the last ANALYZE) it guesses a few
rows match, so it reads every waiting task and sorts them all, for each
claim: measured on a burst of webhooks, 43 ms per claim with 24,000 tasks
waiting (an external sort on disk) against 0.05 ms, and the queue drained
in quadratic time while the claims took CPU from the web workers.

`claim_on_queue_index` (an execute wrapper, installed by the `db_worker`
command) turns sorting and bitmap scans off for the claim's transaction
only (`set_config(..., is_local => true)`, i.e. SET LOCAL), leaving the
index scan as the plan. Everything else the worker runs (the tasks
themselves) is planned as usual.
"""

from django_tasks_db.models import DBTaskResult

CLAIM_SETTINGS = "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)"


def is_claim(sql: str) -> bool:
    """Whether `sql` is the worker's claim: a task row read FOR UPDATE SKIP LOCKED (or its EXPLAIN)."""
    return f'FROM "{DBTaskResult._meta.db_table}"' in sql and sql.endswith("FOR UPDATE SKIP LOCKED")


def claim_on_queue_index(execute, sql, params, many, context):
    """An execute wrapper: SET LOCAL the claim's planner settings just before it, in its transaction."""
    connection = context["connection"]
    if connection.vendor == "postgresql" and connection.in_atomic_block and is_claim(sql):
        context["cursor"].cursor.execute(CLAIM_SETTINGS)
    return execute(sql, params, many, context)
