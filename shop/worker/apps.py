from django.apps import AppConfig


class WorkerConfig(AppConfig):
    name = "shop.worker"
    label = "worker"
    verbose_name = "Task worker"
