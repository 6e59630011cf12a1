"""The task queue's rows (django-tasks-db) as staff see them in the admin."""

from django_tasks_db.models import DBTaskResult


class BackgroundTask(DBTaskResult):
    """A proxy of django-tasks-db's result rows carrying the permission to retry failed tasks."""

    class Meta:
        proxy = True
        verbose_name = "background task"
        permissions = [("retry_backgroundtask", "Can retry failed background tasks")]
