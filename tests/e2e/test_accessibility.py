"""axe-core finds nothing on the pages shoppers and staff use (issue 9, item 21).

Shopper pages are checked in offline mode, test-mode banner shown, as
`make run` serves them; admin pages with an order that has items, status
history, a refund and webhook events (one of them failed), as staff see them.
"""

import re

import pytest

from payments.models import Refund, WebhookEvent
from shop.catalog.models import Book
from shop.orders.models import Carrier, Order
from shop.orders.services import order_mark_shipped
from tests.e2e.accessibility import assert_no_axe_violations
from tests.e2e.helpers import (
    STANDIN_JS,
    add_to_cart,
    fill_checkout,
    open_cart_checkout,
    open_checkout_from_catalog,
    pay,
    wait_for_success_page,
)
from tests.e2e.test_after_payment import admin_log_in, staff  # noqa: F401  (fixture)

WORKING_IN_PUBLIC = "Working in Public: The Making and Maintenance of Open Source"


@pytest.fixture
def offline_mode(settings):
    """Pages as `make run` serves them: with the test-mode banner and the stand-in from static_dev/."""
    settings.STRIPE_OFFLINE_MODE = True
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, STANDIN_JS.parent.parent]


def test_shopper_pages_have_no_axe_violations(page, offline_mode):
    book = Book.objects.get(title=WORKING_IN_PUBLIC)
    page.goto("/")
    assert page.locator("#test-mode-banner").is_visible()
    assert_no_axe_violations(page)

    page.goto(book.get_absolute_url())
    assert_no_axe_violations(page)

    page.goto("/cart/")  # empty
    assert_no_axe_violations(page)
    add_to_cart(page, book.slug, 2)
    page.goto("/cart/")
    assert_no_axe_violations(page)
    open_cart_checkout(page)  # /checkout/: summary, address and payment elements
    assert_no_axe_violations(page)

    open_checkout_from_catalog(page, WORKING_IN_PUBLIC)
    assert_no_axe_violations(page)

    fill_checkout(page)
    pay(page)
    wait_for_success_page(page)
    assert_no_axe_violations(page)

    # The order page (issue 11), shipped so its tracking link is there, and its receipt.
    order_path = page.locator("#order-page-link").get_attribute("href")
    order = Order.objects.get(number=page.locator("#order-number").inner_text().strip())
    order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=None)
    page.goto(order_path)
    assert page.locator("#tracking-link").is_visible()
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Printable receipt").click()
    page.wait_for_url(re.compile(r"/receipt/"))
    assert_no_axe_violations(page)
    response = page.goto(order_path.split("?")[0] + "?key=wrong")
    assert response.status == 404
    assert_no_axe_violations(page)

    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert_no_axe_violations(page)


def paid_order_with_history(page) -> Order:
    """A real paid order (items, status history, its webhook event), a refund and a failed event."""
    open_checkout_from_catalog(page, WORKING_IN_PUBLIC)
    fill_checkout(page, email="a11y@example.com")
    pay(page)
    shown = wait_for_success_page(page)
    order = Order.objects.get(number=shown["number"])
    Refund.objects.create(
        order=order, amount=500, currency=order.currency, status="succeeded", stripe_refund_id="re_a11y"
    )
    WebhookEvent.objects.create(
        stripe_event_id="evt_a11y_failed",
        type="payment_intent.processing",
        payload={"id": "evt_a11y_failed", "type": "payment_intent.processing"},
        payment_intent_id=order.payment_intent_id,
        outcome=WebhookEvent.Outcome.FAILED,
        attempts=1,
        error="Traceback (most recent call last):\n  " + "File x.py, line 1, in f " * 30 + "\nError: boom",
        note="",
    )
    return order


def test_admin_pages_staff_use_have_no_axe_violations(page, staff):  # noqa: F811
    order = paid_order_with_history(page)
    failed = WebhookEvent.objects.get(stripe_event_id="evt_a11y_failed")
    admin_log_in(page, staff)

    pages = [
        "/admin/",  # with the sales overview (a superuser has view_sales)
        "/admin/?days=7",
        "/admin/orders/order/",
        f"/admin/orders/order/?q={order.email}",
        f"/admin/orders/order/?email__iexact={order.email}",
        "/admin/orders/order/?fulfilment=to_ship&o=2",
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/orders/order/{order.pk}/ship/",
        f"/admin/orders/order/{order.pk}/refund/",
        "/admin/payments/refund/",
        "/admin/payments/webhookevent/",
        f"/admin/payments/webhookevent/{failed.pk}/change/",
    ]
    for url in pages:
        response = page.goto(url)
        assert response.status == 200, url
        assert_no_axe_violations(page)

    # Shipped: the order page with its tracking link, Mark as delivered and the fulfilment history.
    order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=staff)
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    assert page.get_by_role("button", name="Mark as delivered").is_visible()
    assert_no_axe_violations(page)


def test_order_list_fits_1280_by_800_with_every_column(page, staff):  # noqa: F811
    from shop.orders.tests.factories import OrderFactory

    OrderFactory(
        email="a.very.long.address.for.testing@subdomain.example.com",
        payment_intent_id="pi_3QwErTyUiOpAsDfGhJkLzXcV",
        needs_review=True,
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    admin_log_in(page, staff)
    page.goto("/admin/orders/order/")

    table = page.locator("#result_list")
    scroll_width, client_width = page.evaluate(
        "() => { const box = document.querySelector('.results'); return [box.scrollWidth, box.clientWidth]; }"
    )
    assert scroll_width <= client_width, "the order table scrolls sideways"
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert page_width <= 1280, "the page scrolls sideways"
    for column in ["payment_intent_id", "review"]:
        box = table.locator(f"th.column-{column}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1280, column
    number = table.locator("tbody .field-number a").first
    line_height = page.evaluate(
        "(cell) => parseFloat(getComputedStyle(cell).lineHeight) || 20", number.element_handle()
    )
    assert number.bounding_box()["height"] < 1.5 * line_height, "the order number wraps"
    assert re.match(r"^SP-\w{8}$", number.inner_text().strip())
