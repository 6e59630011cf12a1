"""The checkout on a 390 px phone: everything fits, the order summary reads as rows, Pay works."""

import pytest

from tests.e2e.helpers import (
    CARD_NEEDS_3DS,
    add_to_cart,
    fill_checkout,
    open_cart_checkout,
    open_checkout_from_catalog,
    pay,
    payment_message,
    wait_for_success_page,
)
from tests.e2e.layout import DESKTOP, PHONE, assert_page_fits

ART = "The Art of Doing Science and Engineering"


def summary_rows(page) -> list[dict]:
    """Each row of the summary's totals: its label, its amount and where both sit on the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.summary-total > div:not([hidden])')].map((row) => {
            const [dt, dd] = [row.querySelector('dt'), row.querySelector('dd')];
            const [rowBox, dtBox, ddBox] = [row, dt, dd].map((node) => node.getBoundingClientRect());
            return {label: dt.innerText.trim(), amount: dd.innerText.trim(),
                    top: rowBox.top, bottom: rowBox.bottom, rowLeft: rowBox.left, rowRight: rowBox.right,
                    dtLeft: dtBox.left, dtTop: dtBox.top, ddRight: ddBox.right, ddTop: ddBox.top};
        })"""
    )


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390", "1280"])
def test_the_order_summary_totals_are_rows_of_label_and_amount(page, viewport):
    page.set_viewport_size(viewport)
    open_checkout_from_catalog(page, ART)

    rows = summary_rows(page)
    assert [row["label"] for row in rows] == ["Subtotal", "Shipping", "Total"]
    for upper, lower in zip(rows, rows[1:], strict=False):
        assert lower["top"] >= upper["bottom"] - 1, "two totals share a line"
    for row in rows:
        assert abs(row["dtTop"] - row["ddTop"]) < 8, f"{row['label']}: its amount is not beside it"
        assert row["dtLeft"] - row["rowLeft"] < 2, f"{row['label']} does not start the row"
        assert row["rowRight"] - row["ddRight"] < 2, f"{row['label']}'s amount is not at the row's end"
    assert_page_fits(page)


def test_the_checkout_fits_a_phone_with_its_errors_and_the_3d_secure_dialog(page):
    page.set_viewport_size(PHONE)
    open_checkout_from_catalog(page, ART)
    assert_page_fits(page)
    for element in ["h1", "#summary-heading", "#payment-heading", "#summary-total", "#email-hint"]:
        assert page.locator(element).is_visible()

    pay(page)  # nothing filled in: the email's error
    assert payment_message(page).startswith("Enter your email address")
    assert_page_fits(page)

    fill_checkout(page, card=CARD_NEEDS_3DS)
    pay(page)
    dialog = page.get_by_role("dialog", name="3-D Secure authentication (simulated)")
    dialog.wait_for()
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], "the dialog is wider than the phone"
    assert_page_fits(page)
    dialog.get_by_role("button", name="Complete authentication").click()
    wait_for_success_page(page)


def test_the_cart_checkout_fits_a_phone_and_pays(page):
    page.set_viewport_size(PHONE)
    add_to_cart(page, "working-in-public", 2)
    open_cart_checkout(page)
    assert_page_fits(page)
    fill_checkout(page)
    pay(page)
    wait_for_success_page(page)
