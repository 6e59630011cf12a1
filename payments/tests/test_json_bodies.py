"""Issue 9 item 1: every JSON body the shop parses answers 400 JSON when it is not sane JSON."""

import json
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import WebhookEvent
from payments.tests.checkout import one_book_body
from payments.tests.events import payment_intent_event
from shop.orders.models import Order
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CREATE_INTENT_URL = reverse("payments:create_intent")
NESTED = "[" * 1000 + "]" * 1000  # 2 KB: a RecursionError (500) before the shared parser


@pytest.mark.parametrize(
    "body",
    [
        NESTED,
        '{"book": ' + NESTED + "}",
        '{"book": "x", "email": "' + "a" * 20_000 + '@example.com"}',  # over the size limit
        b"\xff\xfe not utf-8",
        "{not json",
        "",
    ],
    ids=["nested-arrays", "nested-in-object", "oversized", "not-utf8", "malformed", "empty"],
)
def test_create_intent_answers_400_json_to_bodies_it_cannot_use(client, body):
    response = client.post(CREATE_INTENT_URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_a_signed_webhook_of_nested_arrays_answers_400_json_and_touches_nothing(post_webhook):
    response = post_webhook({}, body=NESTED)

    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]
    assert not WebhookEvent.objects.exists()


def test_a_signed_event_nested_too_deep_inside_its_object_answers_400(post_webhook):
    order = OrderFactory()
    event = payment_intent_event("payment_intent.succeeded", order)
    deep: list = []
    for _ in range(500):
        deep = [deep]
    event["data"]["object"]["metadata"]["deep"] = deep

    response = post_webhook(event)

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.status == "pending"


def test_an_oversized_webhook_is_refused_before_its_signature_is_checked(client):
    body = json.dumps({"id": "evt_big", "padding": "x" * 600_000})

    response = client.post(
        reverse("payments:webhook"), data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1"
    )

    assert response.status_code == 400
    assert "larger than" in response.json()["error"]


LONE_SURROGATE = "\\ud800"  # valid JSON, not valid UTF-8 text


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("email",), f"ada{LONE_SURROGATE}@example.com", "email"),
        (("email",), f"ada@exa{LONE_SURROGATE}mple.com", "email"),
        (("book",), f"hamming{LONE_SURROGATE}", "book"),
        (("shipping", "name"), f"Ada {LONE_SURROGATE}", "shipping.name"),
        (("shipping", "phone"), LONE_SURROGATE, "shipping.phone"),
        (("shipping", "address", "line1"), f"12 {LONE_SURROGATE} Square", "shipping.address.line1"),
        (("shipping", "address", "line2"), LONE_SURROGATE, "shipping.address.line2"),
        (("shipping", "address", "city"), LONE_SURROGATE, "shipping.address.city"),
        (("shipping", "address", "state"), LONE_SURROGATE, "shipping.address.state"),
        (("shipping", "address", "postal_code"), LONE_SURROGATE, "shipping.address.postal_code"),
        (("shipping", "address", "country"), LONE_SURROGATE, "shipping.address.country"),
    ],
)
def test_a_lone_surrogate_in_create_intent_is_a_400_naming_the_field(client, book, path, value, field):
    body = one_book_body(book, "ada@example.com")
    body["shipping"] = json.loads(json.dumps(body["shipping"]))
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = "\x00SURROGATE\x00"
    raw = json.dumps(body).replace("\\u0000SURROGATE\\u0000", value)

    response = client.post(CREATE_INTENT_URL, data=raw, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "application/x-www-form-urlencoded", "text/plain"]
)
def test_create_intent_as_a_form_with_a_valid_csrf_token_is_a_415(book, content_type):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("payments:checkout", args=[book.slug]))  # the page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    fields = {"csrfmiddlewaretoken": token, "book": book.slug, "email": "ada@example.com"}
    if content_type == "multipart/form-data":
        response = client.post(CREATE_INTENT_URL, data=fields)  # the test client's multipart
    else:
        body = urlencode(fields) if content_type.endswith("urlencoded") else json.dumps(fields)
        response = client.post(
            CREATE_INTENT_URL, data=body, content_type=content_type, HTTP_X_CSRFTOKEN=token
        )

    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert not Order.objects.exists()
