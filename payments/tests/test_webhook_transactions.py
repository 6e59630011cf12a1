"""The webhook's own transaction (also with ATOMIC_REQUESTS on) and the queues its tasks land on."""

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from payments.models import WebhookEvent
from payments.services.webhooks import stripe_event_apply
from payments.tasks import webhook_event_apply
from payments.tests.events import payment_intent_event
from shop.orders.models import OrderStatus
from shop.orders.tasks import order_email_send
from shop.orders.tests.factories import OrderFactory
from tests.postgres import run_at_once
from tests.tasks_worker import DATABASE_TASKS

Outcome = WebhookEvent.Outcome


@pytest.mark.django_db(transaction=True)  # no test transaction around it: as in production
def test_with_atomic_requests_a_signed_event_is_stored_applied_and_committed(post_webhook, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)

    response = post_webhook(event)

    assert (response.status_code, response.json()["outcome"]) == (200, "processed")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.status_changes.filter(to_status=OrderStatus.PAID).count() == 1
    # Committed before the answer: another connection sees it.
    [seen] = run_at_once(lambda: WebhookEvent.objects.filter(stripe_event_id=event["id"]).get().outcome)
    assert seen == Outcome.PROCESSED
    assert post_webhook(event).json()["outcome"] == "duplicate"


@pytest.mark.django_db
def test_a_webhook_task_and_an_email_task_land_on_their_own_queues(post_webhook, settings):
    settings.TASKS = DATABASE_TASKS
    order = OrderFactory()

    assert post_webhook(payment_intent_event("payment_intent.succeeded", order)).json()["outcome"] == "queued"

    apply = DBTaskResult.objects.get()
    assert (apply.task_path, apply.queue_name) == (webhook_event_apply.module_path, "webhooks")
    [event_pk] = apply.args_kwargs["args"]
    assert stripe_event_apply(event_pk=event_pk) == Outcome.PROCESSED  # what the webhooks' worker runs
    email = DBTaskResult.objects.exclude(pk=apply.pk).get()
    assert (email.task_path, email.queue_name) == (order_email_send.module_path, "emails")
    assert {"webhooks", "emails"} <= set(settings.TASKS["default"]["QUEUES"])
