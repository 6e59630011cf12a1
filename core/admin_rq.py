"""Django-RQ's dashboard in the admin: listed only when tasks go through RQ, and never a traceback.

django-rq registers its dashboard on every site. Here it is shown (admin home,
sidebar) only when TASKS_BACKEND is "rq"; with the database backend there is no
queue in Redis to look at. When Redis does not answer, the dashboard says so
and where it looked (host, port and database, no password) instead of failing
with the connection's error.
"""

from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard

RQ_BACKEND = "django_tasks_rq.RQBackend"


def rq_configured() -> bool:
    return any(task["BACKEND"] == RQ_BACKEND for task in settings.TASKS.values())


def redis_location() -> str:
    """Where the default queue's Redis is, without its password: "127.0.0.1:6379/2"."""
    url = urlsplit(settings.RQ_QUEUES["default"].get("URL", ""))
    return f"{url.hostname}:{url.port or 6379}{url.path or '/0'}" if url.hostname else "(not set)"


class RQDashboardAdmin(QueueAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return rq_configured() and super().has_module_permission(request)

    def get_urls(self):
        # First, so it answers the dashboard's address before django-rq's own view of it.
        return [path("", self.admin_site.admin_view(self.dashboard_view)), *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        request.current_app = self.admin_site.name  # django-rq's pages link within this admin site
        try:
            return self.changelist_view(request)
        except redis.RedisError as error:
            context = {
                **self.admin_site.each_context(request),
                "title": "Task queue (Redis) not answering",
                "location": redis_location(),
                "error": type(error).__name__,
                "rq_configured": rq_configured(),
            }
            return TemplateResponse(request, "admin/rq_unavailable.html", context)


if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
admin.site.register(Dashboard, RQDashboardAdmin)
