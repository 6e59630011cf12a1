"""Issue 9 items 9 and 13: every verified event is stored, whatever it holds; client secrets masked."""

import json

import pytest

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event, stripe_event
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

Outcome = WebhookEvent.Outcome
EVENT_ID_MAX = WebhookEvent._meta.get_field("stripe_event_id").max_length


def test_an_over_long_event_id_is_stored_and_a_redelivery_is_a_duplicate(post_webhook):
    customer = {"id": "cus_1", "object": "customer"}
    event = stripe_event("customer.created", customer, event_id="evt_" + "x" * 400)

    first, again = post_webhook(event), post_webhook(event)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["outcome"] == "duplicate"
    record = WebhookEvent.objects.get()
    assert len(record.stripe_event_id) <= EVENT_ID_MAX
    assert record.stripe_event_id.startswith("evt_xxx")
    assert record.payload["id"] == event["id"]  # the whole id is kept in the payload


def test_an_over_long_type_is_stored_as_ignored(post_webhook):
    event = stripe_event("payment_intent." + "z" * 300, {"id": "pi_1", "object": "payment_intent"})

    response = post_webhook(event)

    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert record.outcome == Outcome.IGNORED
    assert record.payload["type"] == event["type"]


def test_nul_characters_anywhere_in_the_payload_are_stored_escaped_and_the_event_applied(post_webhook):
    order = OrderFactory(total_amount=2300, currency="usd")
    event = payment_intent_event("payment_intent.succeeded", order)
    event["data"]["object"]["metadata"]["note\x00key"] = "a\x00b"
    event["data"]["object"]["description"] = "\x00"

    response = post_webhook(event)

    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert record.outcome == Outcome.PROCESSED
    assert record.payload["data"]["object"]["metadata"]["note\\u0000key"] == "a\\u0000b"
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_lone_surrogates_are_stored_escaped_pairs_as_they_came_and_the_event_applied(post_webhook):
    order = OrderFactory(total_amount=2300, currency="usd")
    event = payment_intent_event("payment_intent.succeeded", order)
    metadata = event["data"]["object"]["metadata"]
    metadata |= {"high\ud800": "a\ud800b", "low": "\udc00", "high then text": "\udbffx", "pair": "😀"}
    metadata["written"] = "\\ud800"  # already the text \ud800: left alone
    body = json.dumps(event)  # ASCII: "\ud800" escapes, the emoji as a surrogate pair
    assert "\\ud800" in body and "\\ud83d\\ude00" in body

    response = post_webhook(event, body=body)

    assert response.status_code == 200
    record = WebhookEvent.objects.get()
    assert record.outcome == Outcome.PROCESSED
    stored = record.payload["data"]["object"]["metadata"]
    assert stored["high\\ud800"] == "a\\ud800b"
    assert (stored["low"], stored["high then text"]) == ("\\udc00", "\\udbffx")
    assert (stored["pair"], stored["written"]) == ("😀", "\\ud800")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_nul_in_the_event_type_is_stored(post_webhook):
    event = stripe_event("charge.\x00odd", {"id": "ch_1", "object": "charge"})

    response = post_webhook(event)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().type == "charge.\\u0000odd"


def test_stored_payloads_mask_payment_intent_client_secrets_and_keep_the_rest(post_webhook):
    order = OrderFactory(total_amount=2300, currency="usd")
    event = payment_intent_event("payment_intent.succeeded", order)
    secret = f"{order.payment_intent_id}_secret_Zx9Qw"
    event["data"]["object"]["client_secret"] = secret
    event["data"]["object"]["metadata"]["copied"] = f"see {secret} here"

    post_webhook(event)

    stored = WebhookEvent.objects.get().payload
    assert "_secret_Zx9Qw" not in str(stored)
    masked = f"{order.payment_intent_id}_secret_[masked]"
    assert stored["data"]["object"]["client_secret"] == masked
    assert stored["data"]["object"]["metadata"]["copied"] == f"see {masked} here"
    del stored["data"]["object"]["client_secret"], event["data"]["object"]["client_secret"]
    del stored["data"]["object"]["metadata"]["copied"], event["data"]["object"]["metadata"]["copied"]
    assert stored == event
