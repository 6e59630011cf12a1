"""Discount codes in Chromium: typed at checkout (priced by the server), on the cart page without script."""

from shop.orders.models import Order
from shop.vouchers.models import Voucher, VoucherKind
from tests.e2e.helpers import (
    add_to_cart,
    assert_no_csp_violations,
    emulator_payment_intents,
    fill_checkout,
    key_screen,
    open_cart_checkout,
    open_checkout_from_catalog,
    pay,
    payment_message,
    wait_for_paid_by_webhook,
    wait_for_success_page,
    wait_until,
)

HAMMING = "art-of-doing-science-and-engineering"  # $23.00


def apply_code(page, code: str) -> None:
    page.get_by_label("Discount code").fill(code)
    page.locator("#voucher-apply").click()


def voucher_message(page) -> str:
    message = page.locator("#voucher-message")
    message.wait_for(state="visible")
    return message.inner_text().strip()


def test_a_code_typed_at_checkout_lowers_what_is_charged(page, stripe_emulator):
    Voucher.objects.create(code="SPRING", kind=VoucherKind.PERCENT, value=10)
    open_checkout_from_catalog(page, "The Art of Doing Science and Engineering")
    assert page.locator("#summary-total").inner_text() == "$27.99"

    apply_code(page, "nope")
    assert voucher_message(page) == "We do not know the discount code NOPE. Check how it is spelled."
    assert page.locator("#summary-discount-row").is_hidden()

    apply_code(page, "spring")
    page.locator("#voucher-applied-row").wait_for(state="visible")
    assert page.locator("#summary-discount").inner_text() == "−$2.30"
    assert page.locator("#summary-total").inner_text() == "$25.69"
    assert page.locator("#pay-button").inner_text() == "Pay $25.69"
    assert "SPRING" in voucher_message(page)
    key_screen(page, "code-applied")
    fill_checkout(page, email="spring@example.com")
    pay(page)

    shown = wait_for_success_page(page)
    assert shown["amount"] == "$25.69"
    assert page.locator("#order-discount").inner_text() == "−$2.30"
    order = wait_for_paid_by_webhook(page, shown["number"])
    assert (order.voucher_code, order.discount_amount, order.amount_received) == ("SPRING", 230, 2569)
    (intent,) = emulator_payment_intents(stripe_emulator.url, order_number=order.number)
    assert intent["amount"] == 2569
    assert Voucher.objects.get(code="SPRING").uses_count == 1
    assert_no_csp_violations(page)


def test_a_code_used_up_before_paying_is_named_and_the_full_total_shown(page):
    voucher = Voucher.objects.create(code="LAST", kind=VoucherKind.FIXED, value=500, max_uses=1)
    add_to_cart(page, HAMMING, 1)
    page.goto("/cart/")
    apply_code(page, "LAST")  # the cart page's form
    page.locator("#voucher-applied").wait_for()
    open_cart_checkout(page)
    assert page.locator("#summary-total").inner_text() == "$22.99"
    Voucher.objects.filter(pk=voucher.pk).update(uses_count=1)  # another shopper took the last use
    fill_checkout(page)
    pay(page)

    assert payment_message(page) == "The discount code LAST has been used up."
    assert page.locator("#summary-total").inner_text() == "$27.99"
    assert page.locator("#summary-discount-row").is_hidden()
    assert page.locator("#pay-button").inner_text() == "Pay $27.99"
    assert not Order.objects.exclude(payment_intent_id=None).exists()  # nothing sent to Stripe

    pay(page)  # the shopper pays the full price, knowingly
    shown = wait_for_success_page(page)
    assert shown["amount"] == "$27.99"
    wait_until(page, lambda: Order.objects.get(number=shown["number"]).voucher_code == "", message="no code")


def test_the_cart_page_takes_a_code_without_javascript(browser, shop):
    Voucher.objects.create(code="TENOFF", kind=VoucherKind.FIXED, value=1000)
    context = browser.new_context(base_url=shop.url, java_script_enabled=False)
    page = context.new_page()
    try:
        add_to_cart(page, HAMMING, 1)
        page.goto("/cart/")
        apply_code(page, "tenoff")
        page.wait_for_load_state()
        assert "The discount code TENOFF takes $10.00 off your books." in page.content()
        assert page.locator("#cart-discount").inner_text().split() == ["Discount", "(TENOFF)", "−$10.00"]
        assert page.locator("#cart-total").inner_text() == "$17.99"

        page.locator("#voucher-remove").click()
        page.wait_for_load_state()
        assert page.locator("#cart-total").inner_text() == "$27.99"
        assert page.locator("#cart-discount").count() == 0
    finally:
        context.close()
