"""Find my orders (GET/POST /orders/): no enumeration, one email per address per 10 min, limits, bad input.

Tasks run inline (the immediate backend of config/settings_test.py) unless a
test sets the database backend; the email itself is tested in
tests/test_find_orders_emails.py.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from shop.orders.models import OrderListEmail
from shop.orders.order_list import SUBJECT
from shop.orders.tasks import order_list_email_send
from shop.orders.tests.factories import OrderFactory
from tests.tasks_worker import DATABASE_TASKS

pytestmark = pytest.mark.django_db

URL = "/orders/"


def ask(client, email, **extra):
    return client.post(URL, {"email": email}, **extra)


def from_ip(ip: str) -> dict:
    return {"REMOTE_ADDR": ip}


def lists_sent() -> list:
    return [message for message in mail.outbox if message.subject == SUBJECT]


def test_the_page_is_a_plain_form_that_works_without_javascript(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert reverse("orders:find") == URL
    page = response.content.decode()
    assert '<form class="find-orders__form" method="post" action="/orders/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="email" type="email"' in page
    assert "<script" not in page
    assert response["Cache-Control"].startswith("max-age=0")


def test_a_real_csrf_check_guards_the_form(client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post(URL, {"email": "ada@example.com"}).status_code == 403
    page = strict.get(URL)
    token = page.cookies["csrftoken"].value
    assert strict.post(URL, {"email": "ada@example.com", "csrfmiddlewaretoken": token}).status_code == 200


def test_an_address_with_orders_and_one_without_get_the_same_page(client):
    OrderFactory(email="ada@example.com")
    known = ask(client, "ada@example.com", **from_ip("10.0.0.1"))
    unknown = ask(client, "nobody@example.com", **from_ip("10.0.0.2"))

    assert known.status_code == unknown.status_code == 200
    assert known.content.replace(b"ada@example.com", b"ADDRESS") == unknown.content.replace(
        b"nobody@example.com", b"ADDRESS"
    )
    assert "If any orders were placed with <strong>ada@example.com</strong>" in known.content.decode()
    assert [message.to for message in lists_sent()] == [["ada@example.com"]]  # the stranger gets nothing
    assert OrderListEmail.objects.count() == 2  # both addresses used their one email


def test_the_request_does_the_same_work_for_both_and_never_reads_orders(client, settings):
    """The lookup is the task's: the request only claims and enqueues, whatever the address."""
    settings.TASKS = DATABASE_TASKS  # queued, not run inline: what a production request does
    OrderFactory.create_batch(3, email="ada@example.com")
    queries = {}
    for ip, email in [("10.0.0.1", "ada@example.com"), ("10.0.0.2", "nobody@example.com")]:
        with CaptureQueriesContext(connection) as captured:
            assert ask(client, email, **from_ip(ip)).status_code == 200
        queries[email] = [query["sql"] for query in captured.captured_queries]

    assert len(queries["ada@example.com"]) == len(queries["nobody@example.com"])
    assert not any('"orders_order"' in sql for sqls in queries.values() for sql in sqls)
    tasks = DBTaskResult.objects.order_by("enqueued_at")
    assert [task.args_kwargs["args"] for task in tasks] == [["ada@example.com"], ["nobody@example.com"]]
    assert {(task.task_path, task.queue_name) for task in tasks} == {
        (order_list_email_send.module_path, "emails")
    }
    assert mail.outbox == []


def test_a_second_request_within_ten_minutes_sends_nothing_more_and_says_the_same(client):
    OrderFactory(email="ada@example.com")
    first = ask(client, "ada@example.com")
    second = ask(client, "ADA@example.com ")  # the same address, as someone else might type it

    assert second.status_code == 200
    assert second.content.replace(b"ADA@example.com", b"ada@example.com") == first.content
    assert len(lists_sent()) == 1

    OrderListEmail.objects.update(
        last_queued_at=OrderListEmail.objects.get().last_queued_at - timedelta(minutes=10)
    )
    assert ask(client, "ada@example.com").status_code == 200
    assert len(lists_sent()) == 2  # ten minutes on, the address may have its list again


def test_the_cooldown_does_not_depend_on_the_cache(client):
    """The rule is a database row: a cache emptied (restarted, evicted) changes nothing."""
    from django.core.cache import cache

    OrderFactory(email="ada@example.com")
    ask(client, "ada@example.com")
    cache.clear()
    ask(client, "ada@example.com")
    assert len(lists_sent()) == 1


def test_too_many_requests_from_one_client_get_a_429(client, settings):
    settings.FIND_ORDERS_RATE_LIMIT_PER_IP = 4
    for n in range(3):
        assert ask(client, f"shopper{n}@example.com").status_code == 200
    assert ask(client, "not an email").status_code == 400  # bad input counts too

    refused = ask(client, "shopper9@example.com")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many requests to find orders. Please wait a few minutes" in refused.content.decode()
    assert OrderListEmail.objects.count() == 3  # the refused request claimed nothing
    assert ask(client, "shopper9@example.com", **from_ip("10.9.9.9")).status_code == 200  # another client


def test_too_many_requests_for_one_address_get_a_429_from_any_client(client, settings):
    settings.FIND_ORDERS_RATE_LIMIT_PER_EMAIL = 2
    assert ask(client, "ada@example.com", **from_ip("10.0.0.1")).status_code == 200
    assert ask(client, "Ada@Example.com", **from_ip("10.0.0.2")).status_code == 200

    refused = ask(client, "ADA@EXAMPLE.COM", **from_ip("10.0.0.3"))
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert ask(client, "grace@example.com", **from_ip("10.0.0.3")).status_code == 200  # another address


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Enter the email address you ordered with."),
        ("   ", "Enter the email address you ordered with."),
        ("not an email", "Enter the email address you ordered with, like ada@example.com."),
        ("ada@@example.com", "Enter the email address you ordered with, like ada@example.com."),
        ("ada@example.com\r\nBcc: eve@example.com", "Enter the email address you ordered with, like ada"),
        ("ada\x00@example.com", "Enter the email address you ordered with, like ada@example.com."),
        ("a" * 10_000 + "@example.com", "That is too long to be an email address."),
    ],
    ids=["empty", "blank", "not-an-email", "two-ats", "header-injection", "nul-byte", "10-kb"],
)
def test_bad_input_gets_the_form_with_one_clear_error(client, email, message):
    OrderFactory(email="ada@example.com")
    response = ask(client, email)

    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p class="field__error" id="email-error">{message}' in page
    assert 'aria-invalid="true"' in page
    assert page.count('class="field__error"') == 1
    assert "\x00" not in page
    assert len(page) < 20_000  # a 10 KB input is not echoed back whole
    assert not OrderListEmail.objects.exists()
    assert mail.outbox == []


def test_a_post_without_the_field_or_with_a_nul_in_its_name_is_the_form_again(client):
    assert client.post(URL, {}).status_code == 400
    assert client.post(URL, {"em\x00ail": "ada@example.com"}).status_code == 400
    encoded = "email=ada%00%40example.com"  # a NUL byte as a browser would send it
    assert client.post(URL, encoded, content_type="application/x-www-form-urlencoded").status_code == 400
    assert mail.outbox == []


def test_other_methods_are_refused(client):
    assert client.put(URL).status_code == 405


def test_shopper_pages_and_the_order_not_found_page_link_to_it(client):
    assert f'href="{URL}"' in client.get(reverse("catalog:book_list")).content.decode()
    assert f'href="{URL}"' in client.get(reverse("cart:page")).content.decode()
    not_found = client.get(reverse("orders:detail", args=["SP-NOTREAL2"]), {"key": "x" * 32})
    assert not_found.status_code == 404
    assert f'<a href="{URL}" id="find-orders-link">Find my orders</a>' in not_found.content.decode()
