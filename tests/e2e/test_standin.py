"""The Stripe.js stand-in itself: offline mode's own script tag, card checks, its loopback guard."""

import pytest

from shop.orders.models import Order
from tests.e2e.helpers import (
    CREATE_INTENT_PATH,
    STANDIN_JS,
    STRIPE_JS_URL,
    assert_no_csp_violations,
    fill_address,
    fill_card,
    fill_checkout,
    new_context,
    open_checkout_from_catalog,
    pay,
    payment_message,
    requests_to,
    wait_for_paid_by_webhook,
    wait_for_success_page,
)

STATIC_DEV = STANDIN_JS.parent.parent


def test_offline_mode_page_loads_the_standin_from_static_and_takes_a_payment(page, context, settings):
    # What `make run` without keys gives (DEBUG with a loopback STRIPE_API_BASE):
    # static_dev/ is a static folder, and the page itself loads
    # /static/js/stripe-standin.js with data-api-base.
    settings.STRIPE_OFFLINE_MODE = True
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, STATIC_DEV]
    open_checkout_from_catalog(page, "The Art of Doing Science and Engineering")
    assert "no real payments" in page.locator("#test-mode-banner").inner_text().lower()
    assert "no real payments" in page.locator("#payment-element").inner_text().lower()
    fill_checkout(page)
    pay(page)

    shown = wait_for_success_page(page)
    wait_for_paid_by_webhook(page, shown["number"])
    assert requests_to(context, STRIPE_JS_URL) == []
    assert len(requests_to(context, "/static/js/stripe-standin.js")) == 1
    assert_no_csp_violations(page)


@pytest.mark.parametrize(
    "card, expiry, cvc, message",
    [
        ("4242 4242 4242 4241", "12 / 40", "123", "Your card number is invalid."),
        ("4242 4242 42", "12 / 40", "123", "Your card number is incomplete."),
        ("4242 4242 4242 4242", "01 / 20", "123", "Your card's expiration year is in the past."),
        ("4242 4242 4242 4242", "13 / 40", "123", "Your card's expiration month is invalid."),
        ("4242 4242 4242 4242", "12 / 40", "12", "Your card's security code is incomplete."),
    ],
)
def test_card_details_are_checked_before_any_order_exists(page, context, card, expiry, cvc, message):
    open_checkout_from_catalog(page, "Working in Public: The Making and Maintenance of Open Source")
    page.get_by_label("Email").fill("reader@example.com")
    fill_address(page)
    fill_card(page, card, expiry=expiry, cvc=cvc)
    pay(page)

    assert payment_message(page) == message
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() == 1
    assert invalid.evaluate("node => node === document.activeElement")
    assert requests_to(context, CREATE_INTENT_PATH) == []
    assert Order.objects.count() == 0


def test_the_address_is_checked_before_any_order_exists(page, context):
    open_checkout_from_catalog(page, "Working in Public: The Making and Maintenance of Open Source")
    page.get_by_label("Email").fill("reader@example.com")
    fill_address(page)
    page.get_by_label("City").fill("")
    fill_card(page, "4242 4242 4242 4242")
    pay(page)

    assert payment_message(page) == "Enter your city."
    assert page.get_by_label("City").evaluate("node => node === document.activeElement")
    assert requests_to(context, CREATE_INTENT_PATH) == []
    assert Order.objects.count() == 0


def test_the_standin_refuses_a_non_loopback_api(browser, shop):
    context = new_context(browser, shop.url, api_base="https://api.stripe.com")
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto("/checkout/working-in-public/")
        message = page.locator("#payment-message")
        message.wait_for(state="visible")
        assert "payment form could not load" in message.inner_text()
        assert page.locator("#standin-card-number").count() == 0
        assert any("refusing to run" in error for error in errors), errors
        assert page.locator("#pay-button").is_disabled()
    finally:
        context.close()
