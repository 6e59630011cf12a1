"""Background tasks in the admin: failed ones listed with when, error and attempts; Retry."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shop.orders.emails import CONFIRMATION, order_email_record
from shop.orders.models import OrderStatus
from shop.orders.tasks import order_email_send
from shop.orders.tests.factories import OrderFactory
from tests.tasks_worker import DATABASE_TASKS

pytestmark = pytest.mark.django_db

LIST_URL = "admin:core_backgroundtask_changelist"


@pytest.fixture
def failed_task(settings) -> DBTaskResult:
    """A confirmation whose task failed once: the mail server refused it."""
    settings.TASKS = DATABASE_TASKS
    order = OrderFactory(status=OrderStatus.PAID, number="SP-TASKFAIL")
    order_email_record(order=order, kind=CONFIRMATION)
    task = order_email_send.enqueue(order.pk, CONFIRMATION).db_result
    task.claim("worker-1")
    task.set_failed(ConnectionRefusedError("SMTP server refused the connection"))
    return task


def retry(client, task: DBTaskResult):
    return client.post(
        reverse(LIST_URL), {"action": "retry", "_selected_action": [str(task.pk)]}, follow=True
    )


def test_failed_tasks_are_listed_with_error_and_attempts(admin_client, failed_task):
    page = admin_client.get(reverse(LIST_URL), {"status__exact": "FAILED"}).content.decode()
    assert "order_email_send" in page
    assert "ConnectionRefusedError" in page
    assert f"{failed_task.args_kwargs['args'][0]}, &#x27;confirmation&#x27;" in page  # what it was for
    detail = admin_client.get(reverse("admin:core_backgroundtask_change", args=[failed_task.pk]))
    assert "SMTP server refused the connection" in detail.content.decode()  # the traceback


def ready_runs_of(task: DBTaskResult) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(status=TaskResultStatus.READY, task_path=task.task_path).exclude(
            pk=task.pk
        )
    )


def test_retry_queues_a_new_run_and_a_worker_run_sends(admin_client, failed_task, settings):
    settings.TASKS = DATABASE_TASKS
    response = retry(admin_client, failed_task)
    assert "1 task(s) queued again." in response.content.decode()
    failed_task.refresh_from_db()
    assert failed_task.status == TaskResultStatus.FAILED  # its error stays for staff to read
    [rerun] = ready_runs_of(failed_task)
    assert rerun.args_kwargs == failed_task.args_kwargs

    # What a db_worker does next with it (the worker itself is tested in test_tasks_worker.py).
    rerun.claim("worker-2")
    rerun.task.call(*rerun.args_kwargs["args"])
    assert len(mail.outbox) == 1 and "SP-TASKFAIL" in mail.outbox[0].subject


def test_only_failed_tasks_are_retried(admin_client, failed_task):
    failed_task.set_successful(True)
    response = retry(admin_client, failed_task)
    assert "had not failed" in response.content.decode()
    assert ready_runs_of(failed_task) == []


def test_retry_needs_its_permission(client, django_user_model, failed_task):
    user = django_user_model.objects.create_user("staffer", password="a-long-password-123", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_backgroundtask"))
    client.force_login(user)

    assert "Retry selected failed tasks" not in client.get(reverse(LIST_URL)).content.decode()
    retry(client, failed_task)
    assert ready_runs_of(failed_task) == []

    user.user_permissions.add(Permission.objects.get(codename="retry_backgroundtask"))
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert "Retry selected failed tasks" in client.get(reverse(LIST_URL)).content.decode()
    retry(client, failed_task)
    assert len(ready_runs_of(failed_task)) == 1


def test_tasks_cannot_be_added_changed_or_deleted(admin_client, failed_task):
    assert admin_client.get(reverse("admin:core_backgroundtask_add")).status_code == 403
    page = admin_client.get(reverse(LIST_URL)).content.decode()
    assert "delete_selected" not in page
    assert admin_client.get(reverse("admin:index")).content.decode().count("Background tasks") == 1


def running_task(settings, *, minutes_ago: int) -> DBTaskResult:
    """A confirmation's task a worker claimed `minutes_ago` minutes ago and has not finished."""
    settings.TASKS = DATABASE_TASKS
    order = OrderFactory(status=OrderStatus.PAID)
    task = order_email_send.enqueue(order.pk, CONFIRMATION).db_result
    task.claim("worker-killed")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(minutes=minutes_ago))
    return task


def test_a_task_running_past_its_time_limit_is_shown_lost(admin_client, settings):
    lost = running_task(settings, minutes_ago=20)  # its worker was killed mid-task
    running = running_task(settings, minutes_ago=1)

    page = admin_client.get(reverse(LIST_URL)).content.decode()
    only_lost = admin_client.get(reverse(LIST_URL), {"lost": "yes"}).context["cl"].result_list
    detail, still = (
        admin_client.get(reverse("admin:core_backgroundtask_change", args=[task.pk])).content.decode()
        for task in (lost, running)
    )

    assert page.count('class="task-lost"') == 1 and "Running" in page
    assert [task.pk for task in only_lost] == [lost.pk]
    assert "Lost" in detail and "sync_payments (every 5 minutes) queues its work again" in detail
    assert "task-lost" not in still and "queues its work again" not in still
