"""WebhookFirstMiddleware: deliveries handed to the view before the stack, answered with the stack's headers.

Each test client is a handler of its own (its own middleware instances), so
its first delivery goes the whole way and the next ones take the short way.
A request that went through the stack carries a session (SessionMiddleware
sets one on every request it sees); one handed straight to the view does not.
"""

import pytest
from django.test import Client
from django.urls import reverse

from payments.models import WebhookEvent
from payments.tests.events import payment_intent_event
from payments.tests.signing import stripe_signature_header
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def deliver(client: Client, event: dict | None = None, *, body: str | None = None, secure=True, **extra):
    """As Stripe delivers: signed, over HTTPS (unless `secure=False`)."""
    import json

    from django.conf import settings

    payload = body if body is not None else json.dumps(event)
    return client.post(
        reverse("payments:webhook"),
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET),
        secure=secure,
        **extra,
    )


def went_through_the_stack(response) -> bool:
    return hasattr(response.wsgi_request, "session")


def headers_but_length(response) -> dict:
    return {name: value for name, value in response.items() if name != "Content-Length"}


def succeeded() -> dict:
    return payment_intent_event("payment_intent.succeeded", OrderFactory(total_amount=2300, currency="usd"))


def test_after_the_first_delivery_the_view_answers_with_the_stacks_headers(client):
    first = deliver(client, succeeded())
    second = deliver(client, succeeded())

    assert went_through_the_stack(first) and not went_through_the_stack(second)
    assert first.json() == second.json() == {"received": True, "outcome": "processed"}
    assert headers_but_length(second) == headers_but_length(first)
    assert {"Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options"} <= set(second.headers)
    assert second["Content-Length"] == str(len(second.content))
    assert WebhookEvent.objects.filter(outcome="processed").count() == 2


def test_a_rejected_delivery_gets_the_same_headers_and_its_reason(client):
    accepted = deliver(client, succeeded())
    rejected = deliver(client, body='{"id": "evt_not_an_event"}')

    assert not went_through_the_stack(rejected)
    assert rejected.status_code == 400
    assert rejected.json()["error"] == "Body is not a Stripe event."
    assert headers_but_length(rejected) == headers_but_length(accepted)


def test_an_exception_the_view_lets_out_is_djangos_500_with_the_headers(client, monkeypatch):
    accepted = deliver(client, succeeded())

    def broken(**kwargs):
        raise RuntimeError("a bug in the verification")

    monkeypatch.setattr("payments.views.stripe_event_verify", broken)
    client.raise_request_exception = False
    failed = deliver(client, succeeded())

    assert failed.status_code == 500
    for name in ("Strict-Transport-Security", "Content-Security-Policy", "X-Frame-Options"):
        assert failed[name] == accepted[name]


def test_other_methods_and_unknown_hosts_take_the_usual_way(client):
    deliver(client, succeeded())  # the headers are kept: later deliveries could take the short way

    assert went_through_the_stack(client.get(reverse("payments:webhook")))  # the view's 405
    assert deliver(client, succeeded(), HTTP_HOST="evil.example").status_code == 400
    assert WebhookEvent.objects.count() == 1


def test_plain_http_is_redirected_by_the_stack_when_https_is_required(settings):
    settings.SECURE_SSL_REDIRECT = True  # before the client's handler reads it
    client = Client()
    deliver(client, succeeded())

    redirected = deliver(client, succeeded(), secure=False)

    assert redirected.status_code == 301 and redirected["Location"].startswith("https://")
    assert not went_through_the_stack(deliver(client, succeeded()))
    assert WebhookEvent.objects.count() == 2  # over HTTPS only


def test_plain_http_where_allowed_keeps_its_own_headers_without_hsts(client):
    over_https = deliver(client, succeeded())
    first, second = deliver(client, succeeded(), secure=False), deliver(client, succeeded(), secure=False)

    assert went_through_the_stack(first) and not went_through_the_stack(second)
    assert "Strict-Transport-Security" in over_https
    assert "Strict-Transport-Security" not in second
    assert headers_but_length(second) == headers_but_length(first)


def test_other_paths_are_not_touched(client):
    deliver(client, succeeded())

    response = client.post(reverse("payments:create_intent"), data="{}", content_type="application/json")

    assert went_through_the_stack(response)
