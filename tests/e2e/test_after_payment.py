"""After the payment: who may see the confirmation, and staff finding the order in the admin."""

import re

import pytest

from shop.orders.tests.factories import OrderFactory
from tests.e2e.helpers import (
    fill_checkout,
    key_screen,
    new_context,
    open_checkout_from_catalog,
    pay,
    wait_for_paid_by_webhook,
    wait_for_success_page,
)

STAFF_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_superuser("staff", "staff@stripe-press.test", STAFF_PASSWORD)


def buy(page, *, email: str, title: str = "Working in Public: The Making and Maintenance of Open Source"):
    open_checkout_from_catalog(page, title)
    fill_checkout(page, email=email)
    pay(page)
    return wait_for_success_page(page)


def admin_log_in(page, user) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).wait_for()


def admin_search_orders(page, query: str) -> list[str]:
    """Order numbers the admin's order list shows for `query` typed in its search box."""
    page.goto("/admin/orders/order/")
    page.locator("#searchbar").fill(query)
    page.locator("#changelist-search").get_by_role("button", name="Search").click()
    page.wait_for_url("**/admin/orders/order/?q=*")
    return [text.strip() for text in page.locator("#result_list tbody th a").all_inner_texts()]


def test_the_success_link_without_its_client_secret_shows_nothing_in_another_browser(page, browser, shop):
    shown = buy(page, email="private@example.com")
    success_path = f"/payments/success/?payment_intent={shown['payment_intent']}"

    stranger = new_context(browser, shop.url)
    try:
        other = stranger.new_page()
        for path in (success_path, success_path + "&payment_intent_client_secret=pi_wrong_secret_guess"):
            response = other.goto(path)
            assert response.status == 404
            content = other.content()
            assert shown["number"] not in content
            assert "private@example.com" not in content
            assert other.locator("#order-number").count() == 0
    finally:
        stranger.close()

    # The shopper's own browser (the order's session) still sees the confirmation.
    page.goto(success_path)
    assert page.locator("#order-number").inner_text() == shown["number"]


def test_staff_find_the_order_by_email_and_by_payment_intent(page, staff):
    OrderFactory(email="someone.else@example.com")  # must not match either search
    shown = buy(page, email="findme@example.com")
    wait_for_paid_by_webhook(page, shown["number"])

    admin_log_in(page, staff)
    assert admin_search_orders(page, "findme@example.com") == [shown["number"]]
    assert admin_search_orders(page, shown["payment_intent"]) == [shown["number"]]
    key_screen(page, "admin-search")

    page.get_by_role("link", name=shown["number"]).click()
    page.wait_for_url(re.compile(r"/admin/orders/order/\d+/change/"))  # loaded, not just started
    assert page.locator(".form-row.field-email .readonly").inner_text() == "findme@example.com"
    events = page.locator(".inline-group").filter(has_text="webhook events")
    assert events.locator("td.field-type").all_inner_texts() == ["payment_intent.succeeded"]
