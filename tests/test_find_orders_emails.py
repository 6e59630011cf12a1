"""The "Find my orders" email: every order of the address with its working link, to it alone, once per 10 min.

Most tests run the task inline (the immediate backend of
config/settings_test.py). The last ones use production's setup: the task is
a row on the "emails" queue committed by the request, sent by a real
`db_worker` through a real SMTP server (tests/tasks_worker.py), on PostgreSQL.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from shop.orders.access import order_page_url
from shop.orders.models import Carrier, FulfilmentStatus, OrderListEmail, OrderStatus
from shop.orders.order_list import (
    COOLDOWN,
    SUBJECT,
    order_list_address_key,
    order_list_email_claim,
    order_list_email_deliver,
)
from shop.orders.tasks import order_list_email_send
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once
from tests.tasks_worker import db_worker, finish, smtp_inbox

pytestmark = pytest.mark.django_db

SITE_URL = "https://shop.stripe-press.test"


def html_of(message) -> str:
    return message.alternatives[0][0]


def ask(client, email: str):
    return client.post("/orders/", {"email": email})


@pytest.fixture
def adas_orders():
    """Three orders placed with Ada's address (typed differently once), and one of somebody else's."""
    now = timezone.now()
    paid = OrderFactory(email="ada@example.com", status=OrderStatus.PAID, total_amount=2300)
    shipped = OrderFactory(
        email="Ada@Example.com",
        status=OrderStatus.PAID,
        total_amount=5100,
        fulfilment_status=FulfilmentStatus.SHIPPED,
        carrier=Carrier.USPS,
    )
    refunded = OrderFactory(email="ada@example.com", status=OrderStatus.REFUNDED, total_amount=2800)
    OrderFactory(email="grace@example.com", status=OrderStatus.PAID)
    # created_at is set on insert: spread them over three days, the refunded one newest.
    for days, order in [(3, paid), (2, shipped), (1, refunded)]:
        type(order).objects.filter(pk=order.pk).update(created_at=now - timedelta(days=days))
        order.refresh_from_db()
    return [refunded, shipped, paid]  # newest first, as the email lists them


def test_one_email_lists_every_order_of_the_address_with_its_link(client, adas_orders):
    assert ask(client, "ada@example.com").status_code == 200

    [message] = mail.outbox
    assert message.subject == SUBJECT == "Your orders at Stripe Press"
    assert message.to == ["ada@example.com"]
    assert message.cc == message.bcc == []
    html = html_of(message)
    for order in adas_orders:
        url = order_page_url(number=order.number)
        assert url.startswith(f"{SITE_URL}/orders/{order.number}/?key=")
        assert url in message.body and f'href="{url}"' in html
        assert order.number in message.body
        assert f"{order.created_at:%-d %b %Y}" in message.body and f"{order.created_at:%-d %b %Y}" in html
    assert "Total: $28.00\nStatus: Refunded" in message.body
    assert "Total: $51.00\nStatus: Paid, shipped" in message.body
    assert "Total: $23.00\nStatus: Paid" in message.body
    for words in ("$28.00", "$51.00", "$23.00", "Refunded", "Paid, shipped"):
        assert words in html
    numbers = re.findall(r"Order (SP-\w+),", message.body)
    assert numbers == [order.number for order in adas_orders]  # newest first, nobody else's


def test_each_link_in_the_email_opens_its_order_page(client, adas_orders):
    ask(client, "ADA@example.com")
    [message] = mail.outbox
    links = re.findall(rf"{re.escape(SITE_URL)}(/orders/\S+)", message.body)
    assert len(links) == 3
    for order, path in zip(adas_orders, links, strict=True):
        page = client.get(path)
        assert page.status_code == 200
        assert order.number in page.content.decode()


def test_the_html_part_escapes_what_the_shopper_typed():
    OrderFactory(email="o'hara&co@example.com")
    assert order_list_email_deliver(email="o'hara&co@example.com") is True
    [message] = mail.outbox
    assert "o&#x27;hara&amp;co@example.com" in html_of(message)
    assert "o'hara&co@example.com" in message.body  # plain text is not escaped


def test_an_address_without_orders_gets_no_email():
    OrderFactory(email="ada@example.com")
    assert order_list_email_deliver(email="nobody@example.com") is False
    assert order_list_email_deliver(email="ada@example.co") is False  # no partial matches
    assert mail.outbox == []


def test_a_second_request_within_ten_minutes_sends_nothing_more(client, adas_orders):
    first, second = ask(client, "ada@example.com"), ask(client, "ada@example.com")
    assert first.content == second.content
    assert len(mail.outbox) == 1
    assert OrderListEmail.objects.count() == 1


def test_the_table_keeps_no_address_and_forgets_ended_cooldowns(client, adas_orders):
    ask(client, "ada@example.com")
    row = OrderListEmail.objects.get()
    assert row.address_key == order_list_address_key(email=" ADA@example.com")
    assert "ada" not in row.address_key
    OrderListEmail.objects.create(address_key="a" * 64, last_queued_at=timezone.now() - COOLDOWN * 2)

    ask(client, "grace@example.com")  # its task prunes what no longer holds anything back
    assert set(OrderListEmail.objects.values_list("address_key", flat=True)) == {
        order_list_address_key(email="ada@example.com"),
        order_list_address_key(email="grace@example.com"),
    }


def test_a_failing_mail_server_fails_the_task_and_the_page_says_the_same(client, settings, adas_orders):
    settings.EMAIL_BACKEND = "tests.test_confirmation_emails.SMTPDownBackend"
    response = ask(client, "ada@example.com")
    assert response.status_code == 200
    assert "If any orders were placed with" in response.content.decode()
    with pytest.raises(ConnectionRefusedError):
        order_list_email_send.call("ada@example.com")


@postgres_only
def test_racing_requests_for_one_address_claim_it_once(transactional_db):
    results = run_at_once(*[lambda: order_list_email_claim(email="ada@example.com")] * 8)
    assert sorted(results) == [False] * 7 + [True]
    OrderListEmail.objects.update(last_queued_at=timezone.now() - COOLDOWN)
    results = run_at_once(*[lambda: order_list_email_claim(email="ada@example.com")] * 8)
    # An ended cooldown: retaken once, by the conditional UPDATE.
    assert sorted(results) == [False] * 7 + [True]


@postgres_only
def test_the_email_is_sent_by_the_emails_queue_task_once_the_request_committed(database_tasks, client):
    orders = [OrderFactory(email="ada@example.com") for _ in range(2)]
    OrderFactory(email="grace@example.com")
    for email in ("ada@example.com", "nobody@example.com", "ada@example.com"):
        assert ask(client, email).status_code == 200

    # Committed by the requests (no worker has run): one task per address, on the emails queue.
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [(t.task_path, t.queue_name, t.args_kwargs["args"]) for t in tasks] == [
        (order_list_email_send.module_path, "emails", ["ada@example.com"]),
        (order_list_email_send.module_path, "emails", ["nobody@example.com"]),
    ]
    assert {t.status for t in tasks} == {TaskResultStatus.READY}

    with smtp_inbox() as inbox:
        finish(db_worker(inbox, "--batch", queues="emails"), timeout=60)
    assert inbox.recipients() == ["ada@example.com"]
    assert inbox.subjects() == [SUBJECT]
    body = inbox.messages[0].get_payload()[0].get_payload(decode=True).decode()
    for order in orders:
        assert order_page_url(number=order.number) in body
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.SUCCESSFUL}
