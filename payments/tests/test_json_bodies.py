"""Issue 9 item 1: every JSON body the shop parses answers 400 JSON when it is not sane JSON."""

import json

import pytest
from django.urls import reverse

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
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
