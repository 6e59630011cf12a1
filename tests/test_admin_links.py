"""Every link on the admin home and on an order's page answers without a server error.

Checked as staff do (a superuser, the test client following nothing): with the
database task backend (no Redis to talk to), with RQ and its Redis answering,
and with RQ and its Redis down (a closed port). django-rq reads its queues when
it is imported, so "Redis down" runs the same check in a fresh pytest process
(tests/admin_links_redis_down.py, with tests/settings_redis_down.py).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from payments.models import RefundStatus, WebhookEvent
from payments.tests.factories import RefundFactory, WebhookEventFactory
from shop.orders.models import Carrier, OrderStatus
from shop.orders.services import order_mark_shipped
from shop.orders.tests.factories import OrderFactory
from tests.tasks_worker import DATABASE_TASKS
from tests.test_tasks_rq import REDIS_URL, RQ_TASKS

ROOT = Path(__file__).resolve().parent.parent
# Links that leave the admin on purpose or change something on a GET-less path.
NOT_FOLLOWED = re.compile(r"^(https?:|mailto:|#|javascript:)|/logout/")


def links_on(page: str) -> list[str]:
    return sorted(
        {href for href in re.findall(r'<a [^>]*href="([^"]+)"', page) if not NOT_FOLLOWED.match(href)}
    )


def order_with_everything(admin_user):
    """An order whose page has every kind of link: items, history, refund, events, tracking, review."""
    order = OrderFactory(
        status=OrderStatus.PAID,
        amount_received=2300,
        needs_review=True,
        shipping_name="Ada Lovelace",
        shipping_line1="12 St James's Square",
        shipping_city="London",
        shipping_postal_code="SW1Y 4JH",
        shipping_country="GB",
    )
    order = order_mark_shipped(
        order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=admin_user
    )
    RefundFactory(order=order, amount=500, status=RefundStatus.SUCCEEDED, stripe_refund_id="re_links")
    WebhookEventFactory(order=order)
    WebhookEventFactory(order=order, outcome=WebhookEvent.Outcome.FAILED, error="Traceback: boom")
    return order


def server_errors(client, start_pages: list[str]) -> list[str]:
    """Each link on the start pages fetched once: those answering 5xx, with their status."""
    client.raise_request_exception = False  # a view's exception is a 500 to report, not a crash here
    problems, seen = [], set()
    for start in start_pages:
        response = client.get(start)
        assert response.status_code == 200, start
        for link in links_on(response.content.decode()):
            if link in seen:
                continue
            seen.add(link)
            status = client.get(link.replace("&amp;", "&")).status_code
            if status >= 500:
                problems.append(f"{link} (on {start}): {status}")
    assert len(seen) > 20, f"only {len(seen)} links found: the pages did not render as expected"
    return problems


def check_admin_links(admin_client, admin_user) -> None:
    order = order_with_everything(admin_user)
    pages = [reverse("admin:index"), reverse("admin:orders_order_change", args=[order.pk])]
    assert server_errors(admin_client, pages) == []


@pytest.mark.django_db
def test_admin_links_answer_with_the_database_task_backend(admin_client, admin_user, settings):
    settings.TASKS = DATABASE_TASKS
    check_admin_links(admin_client, admin_user)


@pytest.mark.django_db
def test_admin_links_answer_with_rq_and_redis_running(admin_client, admin_user, settings):
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    settings.TASKS = RQ_TASKS
    check_admin_links(admin_client, admin_user)
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:django_rq_dashboard_changelist") in page  # the RQ screens were checked too


def test_admin_links_answer_with_rq_and_redis_down():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings_redis_down"}
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):  # its own test database beside this process's
        env["DATABASE_URL"] = database_url.rstrip("/") + "_redis_down"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/admin_links_redis_down.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "1 passed" in result.stdout, (
        result.stdout[-4000:] + result.stderr[-2000:]
    )
