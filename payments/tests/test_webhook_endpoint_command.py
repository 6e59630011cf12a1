"""`manage.py stripe_webhook_endpoint`, over real HTTP against the emulator's webhook endpoint API.

The emulator lives for the whole session: each test uses URLs of its own, and
its endpoints are deleted afterwards, so no later test's events go to them.
"""

import io
import itertools
import time

import pytest
import stripe
from django.core.management import CommandError, call_command

from payments.models import WebhookEvent
from payments.services import webhook_endpoint
from payments.services.webhook_handlers import EVENT_HANDLERS
from payments.stripe_client import STRIPE_API_VERSION, stripe_client
from payments.tests.emulator import paid_order_on_emulator
from tools.emulator import EMULATOR_SECRET_KEY

pytestmark = pytest.mark.usefixtures("stripe_emulator")

_urls = itertools.count(1)


@pytest.fixture(autouse=True)
def endpoints_deleted_afterwards(localstripe):
    yield
    # Its own client: the test may have changed the Stripe settings.
    client = stripe.StripeClient(EMULATOR_SECRET_KEY, base_addresses={"api": localstripe.url})
    for endpoint in client.v1.webhook_endpoints.list(params={"limit": 100}).auto_paging_iter():
        client.v1.webhook_endpoints.delete(endpoint.id)


@pytest.fixture
def url() -> str:
    return f"https://shop-{time.monotonic_ns()}-{next(_urls)}.example/payments/webhook/"


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("stripe_webhook_endpoint", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> tuple[CommandError, str]:
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("stripe_webhook_endpoint", *args, stdout=out, stderr=io.StringIO())
    return error.value, out.getvalue()


def endpoints_for(url: str) -> list[dict]:
    """What the emulator holds for `url` (read with the API, not through the command's code)."""
    listed = stripe_client().v1.webhook_endpoints.list(params={"limit": 100}).to_dict()["data"]
    return [endpoint for endpoint in listed if endpoint["url"] == url]


def endpoint_create(url: str, **params) -> dict:
    params = {
        "url": url,
        "enabled_events": sorted(EVENT_HANDLERS),
        "api_version": STRIPE_API_VERSION,
        **params,
    }
    return stripe_client().v1.webhook_endpoints.create(params=params).to_dict()


def test_the_api_version_is_the_one_stripe_python_is_written_for():
    # Upgrading stripe-python: read Stripe's changelog for the new version, check the handlers and
    # the fields the shop reads, then move STRIPE_API_VERSION (and the endpoints, see the README).
    assert stripe.api_version == STRIPE_API_VERSION


def test_it_creates_the_endpoint_with_the_handled_events_and_prints_its_secret_once(url):
    out, _ = run("--url", url)

    (endpoint,) = endpoints_for(url)
    assert endpoint["enabled_events"] == sorted(EVENT_HANDLERS)
    assert "charge.dispute.created" in endpoint["enabled_events"]
    assert (endpoint["api_version"], endpoint["status"]) == (STRIPE_API_VERSION, "enabled")
    assert "secret" not in endpoint  # Stripe shows it on create only
    assert f"Created webhook endpoint {endpoint['id']} for {url}" in out
    secrets = [word for word in out.split() if word.startswith("whsec_")]
    assert len(secrets) == 1
    assert "Set STRIPE_WEBHOOK_SECRET to it" in out

    again, _ = run("--url", url)

    assert len(endpoints_for(url)) == 1
    assert f"Webhook endpoint {endpoint['id']} for {url} is up to date." in again
    assert "whsec_" not in again and "signing secret is unchanged" in again


def test_run_again_it_puts_events_and_enabled_right_on_the_same_endpoint(url):
    handled = sorted(EVENT_HANDLERS)
    drifted = endpoint_create(url, enabled_events=[*handled[1:], "customer.created"])
    stripe_client().v1.webhook_endpoints.update(drifted["id"], params={"disabled": True})

    out, _ = run("--url", url)

    (endpoint,) = endpoints_for(url)
    assert endpoint["id"] == drifted["id"]
    assert (endpoint["enabled_events"], endpoint["status"]) == (handled, "enabled")
    assert f"Updated webhook endpoint {drifted['id']}" in out
    assert f"added: {handled[0]}" in out and "removed: customer.created" in out and "enabled again" in out


def test_check_passes_for_a_right_endpoint(url):
    run("--url", url)

    out, _ = run("--check", "--url", url)

    assert "OK: enabled, the shop's event types and API version." in out


def test_check_says_what_is_missing_extra_and_disabled_and_exits_1(url):
    handled = sorted(EVENT_HANDLERS)
    drifted = endpoint_create(url, enabled_events=[*handled[2:], "customer.created"])
    stripe_client().v1.webhook_endpoints.update(drifted["id"], params={"disabled": True})

    error, out = refused("--check", "--url", url)

    assert error.returncode == 1
    assert f"missing event types: {handled[0]}, {handled[1]}" in out
    assert "event types the shop does not handle: customer.created" in out
    assert "disabled: Stripe sends it nothing" in out
    assert "3 problem(s)" in str(error)
    assert endpoints_for(url)[0]["status"] == "disabled"  # --check changes nothing


def test_check_without_an_endpoint_exits_1(url):
    error, _ = refused("--check", "--url", url)

    assert error.returncode == 1 and "No webhook endpoint" in str(error)


def test_an_endpoint_on_another_api_version_is_reported_with_what_to_do(url):
    old = endpoint_create(url, api_version="2024-06-20", enabled_events=["charge.refunded"])

    error, out = refused("--url", url)

    assert error.returncode == 1
    assert f"Endpoint {old['id']} builds its events with API version 2024-06-20" in str(error)
    assert "Stripe cannot change an endpoint's version" in str(error) and "delete it" in str(error)
    (endpoint,) = endpoints_for(url)  # its events are put right all the same, no second endpoint
    assert endpoint["enabled_events"] == sorted(EVENT_HANDLERS)
    assert f"Updated webhook endpoint {old['id']}" in out

    error, out = refused("--check", "--url", url)
    assert f"API version 2024-06-20, the shop reads {STRIPE_API_VERSION}" in out


def test_several_endpoints_for_the_url_are_reported(url):
    first, second = endpoint_create(url), endpoint_create(url)

    error, out = refused("--check", "--url", url)
    assert "2 endpoints for this URL" in out and first["id"] in out and second["id"] in out

    error, _ = refused("--url", url)
    assert "Delete all but one" in str(error)
    assert len(endpoints_for(url)) == 2


def test_endpoints_are_found_on_every_page_of_the_list(url, monkeypatch):
    run("--url", url)
    for n in range(3):
        endpoint_create(f"{url}other-{n}/")
    monkeypatch.setattr(webhook_endpoint, "PAGE_SIZE", 2)

    out, _ = run("--url", url)

    assert "is up to date" in out
    assert len(endpoints_for(url)) == 1


def test_without_url_it_uses_site_url(settings):
    settings.SITE_URL = f"https://shop-{time.monotonic_ns()}.example"

    run()

    assert len(endpoints_for(f"{settings.SITE_URL}/payments/webhook/")) == 1


@pytest.mark.parametrize("bad", ["shop.example/payments/webhook/", "ftp://shop.example/", "https://"])
def test_a_bad_url_is_refused_before_asking_stripe(bad):
    error, _ = refused("--url", bad)

    assert "is not an http(s) URL" in str(error)


def test_an_http_url_is_accepted_with_a_note():
    url = f"http://127.0.0.1:9/{time.monotonic_ns()}/"

    _, err = run("--url", url)

    assert "Stripe accepts only https URLs in live mode" in err
    assert len(endpoints_for(url)) == 1


def test_stripe_refusing_or_unreachable_is_a_clear_error(url, settings):
    settings.STRIPE_SECRET_KEY = ""
    assert "STRIPE_SECRET_KEY is not set" in str(refused("--url", url)[0])

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    error, _ = refused("--check", "--url", url)
    assert "Stripe answered webhook_endpoints.list with PaymentProviderUnavailable" in str(error)


@pytest.mark.django_db(transaction=True)
def test_the_emulator_sends_its_events_to_the_endpoint_set_up(live_server, settings):
    url = f"{live_server.url}/payments/webhook/"
    out, _ = run("--url", url)
    settings.STRIPE_WEBHOOK_SECRET = next(word for word in out.split() if word.startswith("whsec_"))

    order = paid_order_on_emulator()

    deadline = time.monotonic() + 20
    while not WebhookEvent.objects.filter(payment_intent_id=order.payment_intent_id).exists():
        assert time.monotonic() < deadline, "the emulator sent no event to the endpoint"
        time.sleep(0.1)
    event = WebhookEvent.objects.get(payment_intent_id=order.payment_intent_id)
    assert (event.type, event.order) == ("payment_intent.succeeded", order)
