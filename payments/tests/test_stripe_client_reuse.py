"""One Stripe client per process for each key and API base: its HTTP session (and TLS) is reused."""

from payments.stripe_client import stripe_client


def test_the_same_client_serves_every_call(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    first = stripe_client()
    assert stripe_client() is first
    assert stripe_client()._requestor._client is first._requestor._client  # one HTTP session


def test_changed_settings_give_a_client_for_the_new_values(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    before = stripe_client()

    settings.STRIPE_SECRET_KEY = "sk_test_another_account"
    after = stripe_client()

    assert after is not before
    assert after._requestor._options.api_key == "sk_test_another_account"
    settings.STRIPE_API_BASE = "http://127.0.0.1:10"
    assert stripe_client()._requestor._options.base_addresses["api"] == "http://127.0.0.1:10"


def test_a_swapped_http_client_gets_its_own_client(stripe_outage):
    usual = stripe_client()
    scripted = stripe_outage(500)
    assert stripe_client()._requestor._client is scripted
    assert stripe_client() is not usual
