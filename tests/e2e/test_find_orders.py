"""Find my orders in real Chromium: from the footer, JavaScript off, to the order page the email links to.

The live server runs in this process, so the email it sends (the task runs
inline in the test settings) lands in `mail.outbox`. axe-core needs
JavaScript: the page's states are checked in a second, ordinary context.
"""

import re

from django.conf import settings
from django.core import mail

from shop.orders.models import OrderStatus
from shop.orders.order_list import SUBJECT
from shop.orders.tests.factories import OrderFactory
from tests.e2e.accessibility import assert_no_axe_violations
from tests.e2e.helpers import VIEWPORT


def ask_for_orders(page, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me my orders").click()
    page.wait_for_load_state()


def test_a_shopper_without_javascript_finds_their_order_from_the_footer(browser, live_server):
    order = OrderFactory(email="ada@example.com", status=OrderStatus.PAID)
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/")
        page.locator(".site-footer").get_by_role("link", name="Find my orders").click()
        page.wait_for_url(re.compile(r"/orders/$"))

        ask_for_orders(page, "ada@@example.com")
        assert page.locator("#email-error").inner_text() == (
            "Enter the email address you ordered with, like ada@example.com."
        )
        assert page.get_by_label("Email").input_value() == "ada@@example.com"  # to correct, not retype

        ask_for_orders(page, "Ada@Example.com")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
        [message] = [m for m in mail.outbox if m.subject == SUBJECT]
        assert message.to == ["Ada@Example.com"]

        link = re.search(rf"{re.escape(settings.SITE_URL)}(/orders/\S+)", message.body).group(1)
        page.goto(link)
        assert page.get_by_text(order.number).first.is_visible()
    finally:
        context.close()


def test_the_find_my_orders_page_has_no_axe_violations(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto("/orders/")
        assert_no_axe_violations(page)
        ask_for_orders(page, "not an email")
        assert page.locator("#email-error").is_visible()
        assert_no_axe_violations(page)
        ask_for_orders(page, "ada@example.com")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
        assert_no_axe_violations(page)
    finally:
        context.close()
