"""`manage.py db_worker`: django-tasks-db's worker, its claim planned on the queue's index (claim.py).

Same options and behaviour as django-tasks-db's command, which it extends;
it is the one `manage.py` runs because shop.worker comes before
django_tasks_db in INSTALLED_APPS. As it starts it sends `worker_starting`
(signals.py), so an app can queue again what a dead worker left waiting.
"""

from django.db import connections, router
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand
from django_tasks_db.models import DBTaskResult

from shop.worker.claim import claim_on_queue_index
from shop.worker.signals import worker_starting


class Command(DatabaseWorkerCommand):
    def handle(self, *args, **options):
        worker_starting.send(sender=type(self))
        connection = connections[router.db_for_write(DBTaskResult)]
        with connection.execute_wrapper(claim_on_queue_index):
            return super().handle(*args, **options)
