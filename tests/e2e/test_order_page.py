"""The shopper's order page in a real browser: opened from the confirmation email, then shipped by staff."""

import re

from django.core import mail

from tests.e2e.helpers import key_screen, new_context, wait_for_paid_by_webhook, wait_until
from tests.e2e.test_after_payment import admin_log_in, buy, staff  # noqa: F401  (staff: a fixture)

ORDER_LINK = re.compile(r"https://shop\.stripe-press\.test(/orders/SP-\w+/\?key=[\w-]+)")


def order_link_from_email(page, number: str, subject: str) -> str:
    """The order page path in the latest email about order `number` whose subject has `subject`."""

    def message():
        found = [m for m in mail.outbox if number in m.subject and subject in m.subject]
        return found[-1] if found else None

    email = wait_until(page, message, message=f"the {subject!r} email")
    match = ORDER_LINK.search(email.body)
    assert match, email.body
    assert match.group(0) in email.alternatives[0][0]  # the HTML part links to it too
    return match.group(1)


def test_the_shopper_follows_the_email_link_and_sees_the_tracking_once_staff_ship(page, browser, shop, staff):  # noqa: F811
    shown = buy(page, email="follower@example.com")
    wait_for_paid_by_webhook(page, shown["number"])
    # The success page links to the same page.
    success_link = page.locator("#order-page-link").get_attribute("href")

    path = order_link_from_email(page, shown["number"], "Your Stripe Press order")
    assert success_link == path

    # The shopper opens the link in another browser (their phone): no session needed.
    phone = new_context(browser, shop.url)
    try:
        shopper = phone.new_page()
        shopper.key_screens = page.key_screens  # saved with the test's own if it fails
        response = shopper.goto(path)
        assert response.status == 200
        assert response.headers["x-robots-tag"] == "noindex, nofollow"
        assert shopper.locator("#order-number").inner_text() == shown["number"]
        assert shopper.locator("#payment-intent-id").inner_text() == shown["payment_intent"]
        assert shopper.locator('[data-step="paid"]').get_attribute("data-state") == "done"
        assert shopper.locator('[data-step="shipped"]').get_attribute("data-state") == "current"
        assert shopper.locator("#payment-card").inner_text() == "Visa ending in 4242"
        key_screen(shopper, "order-page-paid")

        # A wrong key shows nothing.
        wrong = shopper.goto(path[:-4] + "AAAA")
        assert wrong.status == 404 and shown["number"] not in shopper.content()

        # Staff ship it from the admin's ship page.
        admin_log_in(page, staff)
        from shop.orders.models import Order

        order = Order.objects.get(number=shown["number"])
        page.goto(f"/admin/orders/order/{order.pk}/ship/")
        page.get_by_label("Carrier").select_option("ups")
        page.get_by_label("Tracking number").fill("1Z 999 AA1 0123456784")
        page.get_by_role("button", name="Mark as shipped").click()
        page.wait_for_url(re.compile(r"/admin/orders/order/\d+/change/"))

        # The shipped email carries the same link; the page now shows the parcel.
        assert order_link_from_email(page, shown["number"], "has shipped") == path
        shopper.goto(path)
        assert shopper.locator('[data-step="shipped"]').get_attribute("data-state") == "done"
        assert shopper.locator("#tracking-number").inner_text() == "1Z999AA10123456784"
        link = shopper.get_by_role("link", name=re.compile("Track your parcel"))
        assert link.get_attribute("href") == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
        assert link.get_attribute("rel") == "noreferrer noopener"
        key_screen(shopper, "order-page-shipped")

        # The receipt, as printed: no navigation, the shop's address.
        shopper.get_by_role("link", name="Printable receipt").click()
        shopper.wait_for_url(re.compile(r"/receipt/\?key="))
        shopper.emulate_media(media="print")
        assert not shopper.locator(".site-header").is_visible()
        assert shopper.locator("#receipt-shop").is_visible()
        assert "1 Test Street" in shopper.locator("#receipt-shop").inner_text()
        assert shopper.locator("#total-amount").is_visible()
    finally:
        phone.close()
