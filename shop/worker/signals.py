"""Signals of the task worker (`manage.py db_worker`)."""

from django.dispatch import Signal

# Sent once as a worker starts, before it takes its first task: the moment to queue
# again what a worker that died mid-task left waiting (payments: the webhooks' queue).
worker_starting = Signal()
