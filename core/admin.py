"""Background tasks in the admin: what ran, what failed (when, error, attempts), and Retry.

Replaces django-tasks-db's own read-only list with one on the `BackgroundTask`
proxy, which carries the "Can retry failed background tasks" permission. A
task whose worker was killed stays RUNNING in the queue's table: past
TASK_TIME_LIMIT it is shown as lost, with what queues its work again.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django_tasks_db.models import DBTaskResult

from core.admin_mixins import RecordAdminMixin
from core.models import BackgroundTask
from core.tasks import (
    TASK_TIME_LIMIT,
    background_task_lost,
    background_tasks_lost_filter,
    background_tasks_retry,
)

LOST_NOTE = (
    "Lost: still marked running {minutes} minutes after it started, so its worker stopped. "
    "sync_payments (every 5 minutes) queues its work again: webhook events not applied, emails not sent."
)


class LostFilter(admin.SimpleListFilter):
    title = "lost"
    parameter_name = "lost"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", f"Running for over {TASK_TIME_LIMIT.seconds // 60} minutes (lost)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        return queryset.filter(**background_tasks_lost_filter()) if self.value() == "yes" else queryset


if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(BackgroundTask)
class BackgroundTaskAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ["task_name", "arguments", "state", "enqueued_at", "finished_at", "attempts", "error"]
    list_filter = ["status", LostFilter, "queue_name"]
    search_fields = ["task_path", "exception_class_path"]
    ordering = ["-enqueued_at"]
    date_hierarchy = "enqueued_at"
    actions = ["retry"]
    fields = [
        "task_name",
        "arguments",
        "state",
        "lost_note",
        "enqueued_at",
        "started_at",
        "finished_at",
        "attempts",
        "error",
        "formatted_traceback",
    ]
    readonly_fields = fields

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("core.retry_backgroundtask")

    @admin.display(description="arguments")
    def arguments(self, obj: BackgroundTask) -> str:
        args_kwargs = obj.args_kwargs or {}
        parts = [repr(a) for a in args_kwargs.get("args", [])]
        parts += [f"{k}={v!r}" for k, v in args_kwargs.get("kwargs", {}).items()]
        return ", ".join(parts)

    @admin.display(description="status", ordering="status")
    def state(self, obj: BackgroundTask) -> str:
        if background_task_lost(obj):
            note = LOST_NOTE.format(minutes=TASK_TIME_LIMIT.seconds // 60)
            return format_html('<strong class="task-lost" title="{}">Lost</strong>', note)
        return obj.get_status_display()

    @admin.display(description="what now")
    def lost_note(self, obj: BackgroundTask) -> str:
        return LOST_NOTE.format(minutes=TASK_TIME_LIMIT.seconds // 60) if background_task_lost(obj) else "—"

    @admin.display(description="attempts")
    def attempts(self, obj: BackgroundTask) -> int:
        return len(obj.worker_ids or [])

    @admin.display(description="error")
    def error(self, obj: BackgroundTask) -> str:
        return obj.exception_class_path.rsplit(".", 1)[-1] if obj.exception_class_path else ""

    @admin.display(description="traceback")
    def formatted_traceback(self, obj: BackgroundTask) -> str:
        return format_html('<pre class="webhook-error">{}</pre>', obj.traceback) if obj.traceback else "—"

    @admin.action(description="Retry selected failed tasks", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[BackgroundTask]) -> None:
        retried = background_tasks_retry(task_ids=list(queryset.values_list("pk", flat=True)))
        skipped = queryset.count() - retried
        self.message_user(request, f"{retried} task(s) queued again.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} task(s) had not failed: left as they are.", messages.WARNING
            )


from core import admin_rq  # noqa: E402,F401  (the Django-RQ dashboard, listed only with the RQ backend)
