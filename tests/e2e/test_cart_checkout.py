"""A shopper checking out a cart in Chromium: quantities, the address, a second tab, sold-out books."""

from shop.catalog.models import Book
from shop.orders.models import Order
from tests.e2e.helpers import (
    CARD_DECLINED,
    CARD_SUCCEEDS,
    add_to_cart,
    assert_no_csp_violations,
    fill_card,
    fill_checkout,
    key_screen,
    open_cart_checkout,
    pay,
    payment_message,
    wait_for_paid_by_webhook,
    wait_for_success_page,
    wait_until,
)

HAMMING = "art-of-doing-science-and-engineering"  # $23.00
PERSIA = "making-of-prince-of-persia"  # $25.00


def test_two_books_with_quantities_through_cart_address_and_payment(page):
    add_to_cart(page, HAMMING, 2)
    add_to_cart(page, PERSIA, 1)
    open_cart_checkout(page)
    summary = page.locator("#summary-lines").inner_text()
    assert "2 × $23.00" in summary and "1 × $25.00" in summary
    assert page.locator("#summary-total").inner_text() == "$71.00"  # free shipping from $50
    fill_checkout(page, email="cart@example.com")
    key_screen(page, "cart-checkout-filled")
    pay(page)

    shown = wait_for_success_page(page)
    assert shown["amount"] == "$71.00"
    items = page.locator("#order-items").inner_text()
    assert "The Art of Doing Science and Engineering × 2" in items
    assert "× 1" in items
    address = page.locator("#order-address")
    assert address.inner_text().splitlines()[-3:] == ["LONDON", "SW1Y 4JH", "UNITED KINGDOM"]
    style = address.evaluate(
        "(node) => [getComputedStyle(node).fontStyle, getComputedStyle(node).fontWeight]"
    )
    assert style == ["normal", "400"], "the address is printed as a label is, not in bold italics"
    order = wait_for_paid_by_webhook(page, shown["number"])
    assert sorted(order.items.values_list("book__slug", "quantity")) == [(HAMMING, 2), (PERSIA, 1)]
    assert Book.objects.get(slug=HAMMING).stock == 25 - 2
    page.goto("/cart/")
    assert "Your cart is empty" in page.content()  # emptied once paid
    assert_no_csp_violations(page)


def test_a_cart_changed_in_another_tab_shows_the_new_total_and_asks_again(page, context):
    add_to_cart(page, HAMMING, 1)
    open_cart_checkout(page)
    assert page.locator("#summary-total").inner_text() == "$27.99"
    other_tab = context.new_page()
    add_to_cart(other_tab, PERSIA, 1)  # the total is now $48.00 + $4.99
    other_tab.close()
    fill_checkout(page)
    pay(page)

    assert "total has changed" in payment_message(page)
    assert page.locator("#summary-total").inner_text() == "$52.99"
    assert page.locator("#pay-button").inner_text() == "Pay $52.99"
    key_screen(page, "total-changed")
    assert not Order.objects.exclude(payment_intent_id=None).exists()  # nothing sent to Stripe

    pay(page)
    shown = wait_for_success_page(page)
    assert shown["amount"] == "$52.99"
    wait_for_paid_by_webhook(page, shown["number"])


def test_a_book_sold_out_before_paying_is_refused_and_the_cart_says_so(page):
    add_to_cart(page, PERSIA, 2)
    open_cart_checkout(page)
    sold_elsewhere = Book.objects.get(slug=PERSIA)
    sold_elsewhere.stock = 1  # copies sold meanwhile: saved, so the kept pages (the cart's too) render anew
    sold_elsewhere.save()
    fill_checkout(page)
    pay(page)

    assert "Only 1 copy" in payment_message(page)
    assert page.locator("#cart-link").is_visible()
    assert Book.objects.get(slug=PERSIA).stock == 1  # nothing reserved
    page.goto("/cart/")
    assert "Only 1 copy" in page.content()
    assert page.locator("#checkout-button").count() == 0

    book = Book.objects.get(slug=PERSIA)
    book.stock = 0  # staff count the shelf: saved as the admin saves, so the kept pages render anew
    book.save()
    page.goto(f"/books/{PERSIA}/")
    assert page.locator(".sold-out").inner_text() == "Sold out"


def test_a_declined_card_then_success_with_a_cart(page):
    add_to_cart(page, HAMMING, 1)
    add_to_cart(page, PERSIA, 1)
    open_cart_checkout(page)
    fill_checkout(page, card=CARD_DECLINED)
    pay(page)

    assert payment_message(page) == "Your card was declined."
    order = Order.objects.get()
    wait_until(page, lambda: Order.objects.get(pk=order.pk).status == "failed", message="order failed")

    fill_card(page, CARD_SUCCEEDS)
    pay(page)
    shown = wait_for_success_page(page)
    assert shown["number"] == order.number
    assert Order.objects.count() == 1
    wait_for_paid_by_webhook(page, order.number)
    assert Book.objects.get(slug=HAMMING).stock == 24  # reserved once, across both attempts
