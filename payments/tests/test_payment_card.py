"""The card's brand and last 4 for the receipt: read off Stripe's payment when it says, kept once."""

import pytest

from payments.services.intents import order_apply_payment_intent, payment_intent_card, payment_intent_retrieve
from payments.tests.emulator import payment_intent_on_emulator
from shop.orders.models import OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("stripe_emulator")
def test_the_success_page_read_records_the_card_from_the_emulator():
    order = OrderFactory(payment_intent_id=None)
    payment_intent_on_emulator(order, payment_method="pm_card_visa")
    intent = payment_intent_retrieve(payment_intent_id=order.payment_intent_id)  # expands the payment method

    applied = order_apply_payment_intent(order=order, intent=intent, cause="success page")

    order.refresh_from_db()
    assert applied.order.status == OrderStatus.PAID
    assert (order.card_brand, order.card_last4) == ("visa", "4242")


@pytest.mark.parametrize(
    "intent, card",
    [
        ({"payment_method": {"card": {"brand": "amex", "last4": "0005"}}}, ("amex", "0005")),
        (
            {"latest_charge": {"payment_method_details": {"card": {"brand": "visa", "last4": "1881"}}}},
            ("visa", "1881"),
        ),
        (
            {"charges": {"data": [{"payment_method_details": {"card": {"brand": "jcb", "last4": "0000"}}}]}},
            ("jcb", "0000"),
        ),
        ({"payment_method": "pm_123", "latest_charge": "ch_123"}, None),  # a webhook's ids only
        ({"payment_method": {"type": "sepa_debit", "sepa_debit": {"last4": "3000"}}}, None),
    ],
)
def test_the_card_is_found_where_stripe_puts_it(intent, card):
    assert payment_intent_card(intent) == card


def test_a_card_on_record_is_kept_and_nonsense_is_refused():
    from shop.orders.services import order_record_payment_card

    order = OrderFactory(status=OrderStatus.PAID)
    assert not order_record_payment_card(order=order, brand="visa", last4="42")
    assert order_record_payment_card(order=order, brand="visa", last4="4242")
    assert not order_record_payment_card(order=order, brand="amex", last4="0005")
    order.refresh_from_db()
    assert (order.card_brand, order.card_last4) == ("visa", "4242")
