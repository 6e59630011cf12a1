"""Refunds from the admin: button, form, permissions, read-only lists (and no bulk action)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from payments.models import Refund
from payments.tests.emulator import (
    emulator_refunds,
    paid_order_on_emulator,
    payment_intent_on_emulator,
    staff_user,
)
from payments.tests.fakes import TIMEOUT
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


def refund_url(order) -> str:
    return reverse("admin:orders_order_refund", args=[order.pk])


def change_url(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def clerk(client):
    user = staff_user()
    client.force_login(user)
    return user


@pytest.fixture
def viewer(client):
    user = staff_user(username="viewer", can_refund=False)
    client.force_login(user)
    return user


@pytest.fixture
def paid_order():
    return paid_order_on_emulator(total_amount=2300)


def test_the_order_page_shows_a_refund_button_to_staff_who_may_refund(client, clerk, paid_order):
    response = client.get(change_url(paid_order))

    assert response.status_code == 200
    assert f'href="{refund_url(paid_order)}"' in response.content.decode()


def test_no_refund_button_without_the_permission(client, viewer, paid_order):
    response = client.get(change_url(paid_order))

    assert response.status_code == 200
    assert refund_url(paid_order) not in response.content.decode()


def test_no_refund_button_on_an_unpaid_order(client, clerk):
    order = OrderFactory(status=OrderStatus.PENDING)

    response = client.get(change_url(order))

    assert response.status_code == 200
    assert refund_url(order) not in response.content.decode()


def test_the_refund_form_offers_the_remaining_amount_in_the_orders_currency(client, clerk, paid_order):
    response = client.get(refund_url(paid_order))

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"amount": "23.00", "refund_count": 0}
    page = response.content.decode()
    assert "Amount (USD)" in page
    assert 'value="23.00"' in page
    assert response.context["remaining"] == "$23.00"


def test_posting_the_form_refunds_that_amount_and_says_so(client, clerk, paid_order):
    response = client.post(
        refund_url(paid_order), {"amount": "5.00", "reason": "Coffee stain", "refund_count": "0"}
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(paid_order)
    refund = Refund.objects.get()
    assert (refund.amount, refund.reason, refund.created_by, refund.status) == (
        500,
        "Coffee stain",
        clerk,
        "succeeded",
    )
    assert messages_of(response) == [
        f"Order {paid_order.number}: refunded $5.00 (Stripe refund {refund.stripe_refund_id})."
    ]
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 500)


def test_a_double_click_on_the_form_refunds_once(client, clerk, paid_order):
    data = {"amount": "23.00", "reason": "Wrong book", "refund_count": "0"}

    first = client.post(refund_url(paid_order), data)
    second = client.post(refund_url(paid_order), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert Refund.objects.count() == 1
    assert len(emulator_refunds(paid_order.payment_intent_id)) == 1
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("5.001", "USD amounts have 2 decimal places, e.g. 5.00."),
        ("five", "Enter an amount like 5.00 (digits, and a dot for decimals)."),
        ("5,00", "Enter an amount like 5.00 (digits, and a dot for decimals)."),
        ("0.00", "Enter an amount greater than zero."),
    ],
)
def test_an_amount_staff_did_not_mean_is_refused_on_the_form(client, clerk, paid_order, amount, error):
    response = client.post(refund_url(paid_order), {"amount": amount, "reason": "x", "refund_count": "0"})

    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [error]
    assert not Refund.objects.exists()


def test_more_than_the_remaining_amount_gives_a_clear_message(client, clerk, paid_order):
    response = client.post(
        refund_url(paid_order), {"amount": "23.01", "reason": "Too much", "refund_count": "0"}
    )

    assert response.status_code == 200
    assert messages_of(response) == [
        f"$23.01 is more than the $23.00 that can still be refunded on order {paid_order.number}."
    ]
    assert not Refund.objects.exists()
    assert emulator_refunds(paid_order.payment_intent_id) == []


def test_the_refund_page_of_an_unpaid_order_sends_staff_back_with_a_message(client, clerk):
    order = OrderFactory(status=OrderStatus.PENDING)

    response = client.get(refund_url(order))

    assert (response.status_code, response["Location"]) == (302, change_url(order))
    assert messages_of(response) == [f"Order {order.number} is pending: there is nothing to refund."]


def test_an_unpaid_order_cannot_be_refunded_from_the_form(client, clerk):
    order = OrderFactory(status=OrderStatus.PENDING)

    response = client.post(refund_url(order), {"amount": "1.00", "reason": "x", "refund_count": "0"})

    assert response.status_code == 200
    assert messages_of(response) == [f"Order {order.number} is pending: only paid orders can be refunded."]
    assert not Refund.objects.exists()


def test_staff_without_the_permission_get_403_and_nothing_is_refunded(client, viewer, paid_order):
    shown = client.get(refund_url(paid_order))
    posted = client.post(refund_url(paid_order), {"amount": "23.00", "reason": "x", "refund_count": "0"})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert not Refund.objects.exists()
    assert emulator_refunds(paid_order.payment_intent_id) == []


def test_stripe_unreachable_gives_a_clear_message_and_the_same_form_retries(
    client, clerk, paid_order, stripe_outage, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_outage(TIMEOUT, then_real=True)
    data = {"amount": "10.00", "reason": "Damaged", "refund_count": "0"}

    failed = client.post(refund_url(paid_order), data)

    assert failed.status_code == 200
    [message] = messages_of(failed)
    assert message.startswith("Stripe could not be reached")
    assert "nothing was recorded as refunded" in message
    assert failed.context["form"]["refund_count"].value() == "0"  # resubmitting resends the same request
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 0

    retried = client.post(refund_url(paid_order), data)

    assert retried.status_code == 302
    assert len(emulator_refunds(paid_order.payment_intent_id)) == 1
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 1000


def test_an_unconfirmed_refund_can_be_sent_again_from_the_refund_page(
    client, clerk, paid_order, stripe_outage, settings
):
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    stripe_outage(503, then_real=True)
    client.post(refund_url(paid_order), {"amount": "23.00", "reason": "Lost", "refund_count": "0"})
    refund = Refund.objects.get()
    page = client.get(refund_url(paid_order)).content.decode()
    assert f'name="resend" value="{refund.pk}"' in page

    response = client.post(refund_url(paid_order), {"resend": str(refund.pk)})

    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert len(emulator_refunds(paid_order.payment_intent_id)) == 1
    paid_order.refresh_from_db()
    assert paid_order.status == OrderStatus.REFUNDED


def test_there_is_no_bulk_refund_action(client, clerk, paid_order):
    # One misclick must not refund many orders: refunds are made one order at a time.
    listing = client.get(reverse("admin:orders_order_changelist"))
    client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund_in_full", "_selected_action": [paid_order.pk]},
    )

    assert listing.status_code == 200
    assert "refund_in_full" not in listing.content.decode()
    assert not Refund.objects.exists()
    assert emulator_refunds(paid_order.payment_intent_id) == []


def test_refunds_are_listed_read_only_on_the_order_and_in_their_own_list(client, clerk, paid_order):
    client.post(refund_url(paid_order), {"amount": "2.50", "reason": "Bent corner", "refund_count": "0"})
    refund = Refund.objects.get()

    order_page = client.get(change_url(paid_order)).content.decode()
    listing = client.get(reverse("admin:payments_refund_changelist"))
    detail = client.get(reverse("admin:payments_refund_change", args=[refund.pk]))

    assert refund.stripe_refund_id in order_page and "Bent corner" in order_page
    assert listing.status_code == 200 and refund.stripe_refund_id in listing.content.decode()
    assert reverse("admin:payments_refund_add") not in listing.content.decode()
    assert detail.status_code == 200
    assert detail.context["has_change_permission"] is False
    assert client.get(reverse("admin:payments_refund_add")).status_code == 403


def test_a_form_opened_before_another_refund_is_refused_then_offered_afresh(client, clerk, paid_order):
    client.post(refund_url(paid_order), {"amount": "3.00", "reason": "First", "refund_count": "0"})

    stale = client.post(refund_url(paid_order), {"amount": "4.00", "reason": "Second", "refund_count": "0"})

    assert stale.status_code == 200
    assert messages_of(stale)[-1] == (
        f"Order {paid_order.number} was refunded by someone else since this page was opened. "
        "Check what is left to refund and try again."
    )
    form = stale.context["form"]
    assert (form["amount"].value(), form["refund_count"].value()) == ("4.00", "1")
    assert stale.context["remaining"] == "$20.00"

    again = client.post(refund_url(paid_order), {"amount": "4.00", "reason": "Second", "refund_count": "1"})

    assert again.status_code == 302
    assert sorted(r["amount"] for r in emulator_refunds(paid_order.payment_intent_id)) == [300, 400]


def test_a_refusal_from_stripe_is_shown_to_staff(client, clerk):
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300, payment_intent_id=None)
    payment_intent_on_emulator(order, payment_method="pm_card_chargeCustomerFail")

    response = client.post(refund_url(order), {"amount": "23.00", "reason": "x", "refund_count": "0"})

    assert response.status_code == 200
    assert messages_of(response) == [
        f"Stripe refused the refund on order {order.number}: Cannot refund a failed payment."
    ]
    assert response.context["form"]["refund_count"].value() == "1"  # the next try is a new request
    assert Refund.objects.get().status == "failed"
