"""Drop the partial unique index 0005 put on django-tasks-db's task table.

That table belongs to django-tasks-db: the shop adds nothing to it. Each
webhook event now has its own `webhook_event_apply` task, so no index is
needed. Reversing this migration recreates nothing (0005's own reverse
drops the index if it is there).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("payments", "0005_one_waiting_apply_received_task")]

    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS payments_apply_received_one_waiting", reverse_sql=migrations.RunSQL.noop
        )
    ]
