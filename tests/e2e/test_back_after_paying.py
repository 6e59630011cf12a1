"""Back after paying (issue 9, item 14): the same book is not sold again with one click."""

import re

from shop.orders.models import Order
from tests.e2e.helpers import (
    CREATE_INTENT_PATH,
    fill_checkout,
    open_checkout_from_catalog,
    pay,
    requests_to,
    wait_for_success_page,
)

TITLE = "The Making of Prince of Persia"


def test_back_from_the_success_page_says_the_book_was_bought_and_asks_before_paying(page, context):
    open_checkout_from_catalog(page, TITLE)
    fill_checkout(page, email="twice@example.com")
    pay(page)
    shown = wait_for_success_page(page)
    intents_before = len(requests_to(context, CREATE_INTENT_PATH))

    page.go_back()
    page.wait_for_url(re.compile(r"/checkout/[\w-]+/$"))

    notice = page.locator("#already-bought")
    notice.wait_for()
    assert "You already bought this book" in notice.inner_text()
    assert page.locator("#pay-button").is_disabled()
    link = notice.get_by_role("link", name=shown["number"])
    assert "payment_intent=" + shown["payment_intent"] in link.get_attribute("href")

    # Pay does nothing until the shopper asks for another copy.
    page.locator("#standin-card-number").wait_for()
    page.locator("#pay-button").click(force=True)
    page.wait_for_timeout(300)
    assert len(requests_to(context, CREATE_INTENT_PATH)) == intents_before

    page.get_by_role("button", name="Buy another copy").click()
    assert page.locator("#pay-button").is_enabled()
    fill_checkout(page, email="twice@example.com")
    pay(page)
    second = wait_for_success_page(page)
    assert second["number"] != shown["number"]
    assert Order.objects.filter(email="twice@example.com", status="paid").count() == 2


def test_the_link_in_the_notice_opens_the_order(page):
    open_checkout_from_catalog(page, TITLE)
    fill_checkout(page, email="link@example.com")
    pay(page)
    shown = wait_for_success_page(page)

    page.go_back()
    page.locator("#already-bought").get_by_role("link", name=shown["number"]).click()

    again = wait_for_success_page(page)
    assert again["number"] == shown["number"]
