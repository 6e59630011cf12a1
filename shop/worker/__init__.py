"""The task worker: django-tasks-db's `manage.py db_worker`, its claim planned on the queue's index.

The app comes before django_tasks_db in INSTALLED_APPS, so its `db_worker`
command is the one `manage.py` runs (shop/worker/management/commands/db_worker.py).
"""
