from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Infrastructure shared by the shop's apps: money, rate limits, task queueing, admin helpers."""

    name = "core"
    label = "core"
    verbose_name = "Background work"
