"""At most one `webhook_events_apply_received` task waiting for a worker (PostgreSQL).

A unique index on django-tasks-db's task table, over that task's READY rows
only: the webhook's statement writes the task's row with ON CONFLICT DO
NOTHING, and it is this index that says "one is waiting already". Unlike a
query, an index's uniqueness check sees the latest committed rows and waits
for a worker's claim in flight (payments/services/webhooks.py says why that
matters). Only PostgreSQL, where the stored events are their own queue.
"""

from django.db import migrations

INDEX = "payments_apply_received_one_waiting"
TASK_PATH = "payments.tasks.webhook_events_apply_received"  # payments/tasks.py; test_webhook_received_queue.py checks it


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    meta = apps.get_model("django_tasks_database", "DBTaskResult")._meta
    task_path, status = (quote(meta.get_field(name).column) for name in ("task_path", "status"))
    schema_editor.execute(
        f"CREATE UNIQUE INDEX {quote(INDEX)} ON {quote(meta.db_table)} ({task_path}) "
        f"WHERE {status} = 'READY' AND {task_path} = '{TASK_PATH}'"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
        ("payments", "0004_webhookevent_fewer_indexes"),
    ]

    operations = [migrations.RunPython(create_index, drop_index)]
