"""The README's screenshots: `make screenshots` runs this file (the suite does not collect it).

docs/screenshots/checkout.png, admin-order.png, admin-overview.png,
admin-ship.png and order-page.png, taken from the live shop in real
Chromium, paid through the emulator. The checkout is shown as
`make run` serves it: offline mode, with its banner.
"""

from shop.orders.access import order_page_path
from shop.orders.models import Order
from tests.e2e.helpers import (
    ROOT,
    STANDIN_JS,
    fill_checkout,
    open_checkout_from_catalog,
    pay,
    wait_for_paid_by_webhook,
    wait_for_success_page,
)
from tests.e2e.test_after_payment import admin_log_in, staff  # noqa: F401  (staff: a fixture)

SCREENSHOTS = ROOT / "docs" / "screenshots"


def test_readme_screenshots(page, staff, settings):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    settings.STRIPE_OFFLINE_MODE = True  # as `make run` has it: the stand-in from static_dev/
    settings.STATICFILES_DIRS = [*settings.STATICFILES_DIRS, STANDIN_JS.parent.parent]

    open_checkout_from_catalog(page, "The Art of Doing Science and Engineering")
    fill_checkout(page, email="reader@example.com")
    page.screenshot(path=SCREENSHOTS / "checkout.png")  # the 1200×900 viewport
    pay(page)
    shown = wait_for_success_page(page)
    order = wait_for_paid_by_webhook(page, shown["number"])

    admin_log_in(page, staff)
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.locator("#toggle-nav-sidebar").click()  # the order gets the full width
    events = page.locator(".inline-group").filter(has_text="webhook events")
    assert events.locator("td.field-type").all_inner_texts() == ["payment_intent.succeeded"]
    assert Order.objects.get(pk=order.pk).status == "paid"
    # From the top of the page down to the webhook events: 1200 px wide, about 2000 high.
    box = events.bounding_box()
    bottom = page.evaluate("window.scrollY") + box["y"] + box["height"] + 16
    page.screenshot(
        path=SCREENSHOTS / "admin-order.png",
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1200, "height": bottom},
    )

    # The admin home with its sales overview (this order is the day's revenue).
    page.goto("/admin/")
    page.screenshot(path=SCREENSHOTS / "admin-overview.png", full_page=True)

    # Mark as shipped, then the shopper's order page showing the parcel.
    page.goto(f"/admin/orders/order/{order.pk}/ship/")
    page.get_by_label("Carrier").select_option("ups")
    page.get_by_label("Tracking number").fill("1Z 999 AA1 0123456784")
    page.screenshot(path=SCREENSHOTS / "admin-ship.png")
    page.get_by_role("button", name="Mark as shipped").click()
    page.wait_for_url("**/change/")

    page.goto(order_page_path(number=order.number))
    page.locator("#tracking-link").wait_for()
    page.screenshot(path=SCREENSHOTS / "order-page.png", full_page=True)
