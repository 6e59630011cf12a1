"""A shopper buying books in Chromium: the checkout page, the stand-in, the emulator, the webhook."""

import pytest

from shop.catalog.models import Book
from shop.orders.models import Order
from tests.e2e.helpers import (
    CARD_DECLINED,
    CARD_NEEDS_3DS,
    CARD_SUCCEEDS,
    CREATE_INTENT_PATH,
    assert_no_csp_violations,
    emulator_payment_intents,
    fill_card,
    fill_checkout,
    key_screen,
    open_checkout_from_catalog,
    pay,
    payment_message,
    requests_to,
    wait_for_paid_by_webhook,
    wait_for_success_page,
    wait_until,
)

AUTHENTICATION_FAILED = (
    "We are unable to authenticate your payment method. "
    "Please choose a different payment method and try again."
)


@pytest.mark.parametrize(
    "slug, total",
    [
        ("art-of-doing-science-and-engineering", "$27.99"),
        ("making-of-prince-of-persia", "$29.99"),
        ("working-in-public", "$32.99"),
    ],
)
def test_buying_a_book_from_the_catalog_ends_paid(page, slug, total):
    book = Book.objects.get(slug=slug)
    open_checkout_from_catalog(page, book.title)
    fill_checkout(page, email="reader@example.com")
    key_screen(page, "checkout-filled")
    pay(page)

    shown = wait_for_success_page(page)
    order = Order.objects.get(number=shown["number"])
    assert shown["payment_intent"] == order.payment_intent_id
    assert shown["payment_intent"].startswith("pi_")
    assert shown["amount"] == total
    assert order.email == "reader@example.com"
    assert [item.title for item in order.items.all()] == [book.title]
    order = wait_for_paid_by_webhook(page, order.number)
    assert order.amount_received == book.price_amount + 499  # with shipping
    assert order.shipping_city == "London"


def test_a_declined_card_can_be_retried_on_the_same_order(page):
    open_checkout_from_catalog(page, "Working in Public: The Making and Maintenance of Open Source")
    fill_checkout(page, card=CARD_DECLINED)
    pay(page)

    assert payment_message(page) == "Your card was declined."
    key_screen(page, "declined")
    assert "/checkout/" in page.url
    order = Order.objects.get()
    # The emulator's payment_intent.payment_failed webhook records the failure.
    wait_until(page, lambda: Order.objects.get(pk=order.pk).status == "failed", message="order failed")

    fill_card(page, CARD_SUCCEEDS)
    pay(page)
    shown = wait_for_success_page(page)
    assert shown["number"] == order.number
    assert shown["payment_intent"] == order.payment_intent_id
    assert Order.objects.count() == 1
    wait_for_paid_by_webhook(page, order.number)


def test_3d_secure_completed_pays_the_order(page):
    open_checkout_from_catalog(page, "The Art of Doing Science and Engineering")
    fill_checkout(page, card=CARD_NEEDS_3DS)
    pay(page)

    dialog = page.get_by_role("dialog", name="3-D Secure authentication (simulated)")
    dialog.wait_for()
    key_screen(page, "3ds-dialog")
    dialog.get_by_role("button", name="Complete authentication").click()

    shown = wait_for_success_page(page)
    assert shown["amount"] == "$27.99"
    wait_for_paid_by_webhook(page, shown["number"])
    assert_no_csp_violations(page)


def test_3d_secure_failed_shows_why_and_leaves_the_order_unpaid(page):
    open_checkout_from_catalog(page, "The Art of Doing Science and Engineering")
    fill_checkout(page, card=CARD_NEEDS_3DS)
    pay(page)

    dialog = page.get_by_role("dialog", name="3-D Secure authentication (simulated)")
    dialog.get_by_role("button", name="Fail authentication").click()

    assert payment_message(page) == AUTHENTICATION_FAILED
    key_screen(page, "3ds-failed")
    assert dialog.count() == 0
    # Stripe reports the failed authentication (payment_intent.payment_failed): a failed attempt.
    order = wait_until(
        page,
        lambda: Order.objects.filter(status="failed").first(),
        message="the order failed by the payment_failed webhook",
    )
    assert order.paid_at is None

    # Another card on the same page pays the same order.
    fill_card(page, CARD_SUCCEEDS)
    pay(page)
    shown = wait_for_success_page(page)
    assert (shown["number"], shown["payment_intent"]) == (order.number, order.payment_intent_id)


@pytest.mark.parametrize(
    "email, message",
    [
        ("", "Enter your email address so we can send your receipt."),
        ("not-an-email", "Enter a valid email address, like you@example.com."),
    ],
)
def test_a_missing_or_invalid_email_stops_before_any_request(page, context, email, message):
    open_checkout_from_catalog(page, "Working in Public: The Making and Maintenance of Open Source")
    fill_checkout(page, email=email)
    requests_before = len(context.requests)
    pay(page)

    assert payment_message(page) == message
    key_screen(page, "email-rejected")
    page.wait_for_timeout(300)  # let anything the click might have started go out
    calls = [r.url for r in context.requests[requests_before:] if r.resource_type in ("fetch", "xhr")]
    assert calls == []  # neither the shop's create-intent nor the emulator
    assert Order.objects.count() == 0
    assert page.locator("#email").evaluate("node => node === document.activeElement")


def test_double_click_on_pay_creates_one_payment_intent(page, context, stripe_emulator):
    open_checkout_from_catalog(page, "The Making of Prince of Persia: Journals 1985-1993")
    fill_checkout(page)
    page.locator("#pay-button").dblclick()

    shown = wait_for_success_page(page)
    assert [r.resource_type for r in requests_to(context, CREATE_INTENT_PATH)] == ["fetch"]
    order = Order.objects.get()
    assert order.number == shown["number"]
    intents = emulator_payment_intents(stripe_emulator.url, order_number=order.number)
    assert [intent["id"] for intent in intents] == [order.payment_intent_id]


def test_reloading_the_checkout_creates_no_order(page, context):
    open_checkout_from_catalog(page, "Working in Public: The Making and Maintenance of Open Source")
    page.get_by_label("Email").fill("reader@example.com")
    for _ in range(3):
        page.reload()
        page.locator("#standin-card-number").wait_for()

    assert requests_to(context, CREATE_INTENT_PATH) == []
    assert Order.objects.count() == 0


def test_buy_now_on_the_book_page_pays_for_the_quantity_chosen(page):
    page.goto("/books/working-in-public/")
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/checkout/working-in-public/?quantity=3")
    page.locator("#standin-card-number").wait_for()
    assert page.locator("#summary-lines").inner_text().count("3 × $28.00 = $84.00") == 1
    assert page.locator("#summary-total").inner_text() == "$84.00"  # free shipping from $50

    fill_checkout(page)
    pay(page)
    shown = wait_for_success_page(page)
    assert shown["amount"] == "$84.00"
    order = wait_for_paid_by_webhook(page, shown["number"])
    assert list(order.items.values_list("book__slug", "quantity")) == [("working-in-public", 3)]
