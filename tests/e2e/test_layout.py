"""Every page shoppers and staff use fits a phone and a laptop, and axe-core finds nothing on it.

Shopper pages (catalog, book, cart, both checkouts, success, order page,
receipt) at 390x844 and 1280x800, in offline mode as `make run` serves them;
the admin pages staff work in (home with the sales overview, order list, order,
refund, ship, packing slip, webhook events and one event, book list) at 1280x800, and those
a phone is used for at the packing table (order, ship, refund, home) at 390x844.
Each: no sideways scrolling, nothing cut off by its box, no word broken across
lines (tests/e2e/layout.py), no axe violation (tests/e2e/accessibility.py); on
shopper pages, no word of Stripe's API ("PaymentIntent").
"""

import re

import pytest

from payments.models import WebhookEvent
from shop.orders.models import Carrier, Order
from shop.orders.services import order_mark_shipped
from shop.orders.tests.factories import OrderFactory
from tests.e2e.accessibility import assert_no_axe_violations
from tests.e2e.helpers import (
    add_to_cart,
    fill_checkout,
    open_cart_checkout,
    open_checkout_from_catalog,
    pay,
    wait_for_success_page,
)
from tests.e2e.layout import DESKTOP, PHONE, assert_page_fits
from tests.e2e.test_accessibility import WORKING_IN_PUBLIC, offline_mode, paid_order_with_history  # noqa: F401
from tests.e2e.test_after_payment import admin_log_in, staff  # noqa: F401  (fixture)

# Words of Stripe's API, not a shopper's: the payment's id is their "payment reference".
DEVELOPER_WORDS = ["PaymentIntent", "payment_intent", "client secret"]


def check(page, url: str | None = None, *, shopper: bool = False) -> None:
    if url is not None:
        response = page.goto(url)
        assert response.status == 200, url
    assert_page_fits(page)
    assert_no_axe_violations(page)
    if shopper:
        text = page.locator("body").inner_text()
        assert [word for word in DEVELOPER_WORDS if word in text] == [], page.url


def check_all(page, urls: list[str]) -> None:
    """Every page checked, then one failure listing what is wrong on each."""
    found = []
    for url in urls:
        try:
            check(page, url)
        except AssertionError as problem:
            found.append(str(problem))
    assert not found, "\n\n".join(found)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390x844", "1280x800"])
def test_shopper_pages_fit_the_screen(page, offline_mode, viewport):  # noqa: F811
    page.set_viewport_size(viewport)
    check(page, "/", shopper=True)
    check(page, "/books/working-in-public/", shopper=True)
    check(page, "/cart/", shopper=True)  # empty
    add_to_cart(page, "working-in-public", 2)
    check(page, "/cart/", shopper=True)
    open_cart_checkout(page)
    check(page, shopper=True)
    open_checkout_from_catalog(page, WORKING_IN_PUBLIC)
    check(page, shopper=True)
    fill_checkout(page)
    pay(page)
    wait_for_success_page(page)
    check(page, shopper=True)

    order_path = page.locator("#order-page-link").get_attribute("href")
    order = Order.objects.get(number=page.locator("#order-number").inner_text().strip())
    order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=None)
    check(page, order_path, shopper=True)
    weight = page.locator("#shipping-address").evaluate("(node) => getComputedStyle(node).fontWeight")
    assert weight == "400", "the address reads as a label does, not in bold"
    page.get_by_role("link", name="Printable receipt").click()
    page.wait_for_url(re.compile(r"/receipt/"))
    assert page.get_by_role("button", name="Print").is_visible()
    check(page, shopper=True)


def long_values_in_lists() -> None:
    """Rows with values as long as real ones: Stripe ids, a long email, the longest event type."""
    OrderFactory(
        email="a.very.long.address.for.testing@subdomain.example.com",
        payment_intent_id="pi_3QwErTyUiOpAsDfGhJkLzXcV",
        needs_review=True,
    )
    WebhookEvent.objects.create(
        stripe_event_id="evt_3QwErTyUiOpAsDfGh1JkLzXcV",
        type="checkout.session.async_payment_succeeded",
        payload={"id": "evt_3QwErTyUiOpAsDfGh1JkLzXcV"},
        payment_intent_id="pi_3QwErTyUiOpAsDfGhJkLzXcV",
        outcome=WebhookEvent.Outcome.IGNORED,
        attempts=12,
        note="",
    )


def test_admin_pages_fit_the_screen(page, staff):  # noqa: F811
    order = paid_order_with_history(page)
    long_values_in_lists()
    failed = WebhookEvent.objects.get(stripe_event_id="evt_a11y_failed")
    admin_log_in(page, staff)

    page.set_viewport_size(DESKTOP)
    check_all(
        page,
        [
            "/admin/",
            "/admin/?days=90",
            "/admin/orders/order/",
            f"/admin/orders/order/{order.pk}/change/",
            f"/admin/orders/order/{order.pk}/refund/",
            f"/admin/orders/order/{order.pk}/ship/",
            f"/admin/orders/order/{order.pk}/packing-slip/",
            "/admin/payments/webhookevent/",
            f"/admin/payments/webhookevent/{failed.pk}/change/",
            "/admin/catalog/book/",
        ],
    )

    page.set_viewport_size(PHONE)
    check_all(
        page,
        [
            "/admin/",
            f"/admin/orders/order/{order.pk}/change/",
            f"/admin/orders/order/{order.pk}/refund/",
            f"/admin/orders/order/{order.pk}/ship/",
        ],
    )
