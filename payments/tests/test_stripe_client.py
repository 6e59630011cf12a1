"""How stripe_call maps Stripe's refusals, against the emulator (real HTTP)."""

import pytest
import stripe

from payments.exceptions import PaymentRejected
from payments.stripe_client import stripe_call, stripe_client
from payments.tests.emulator import payment_intent_on_emulator
from shop.orders.tests.factories import OrderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_emulator")]


def test_a_declined_card_is_payment_rejected_with_stripes_message_for_the_shopper():
    intent = payment_intent_on_emulator(OrderFactory(payment_intent_id=None), payment_method=None)
    stripe_client().v1.payment_intents.update(
        intent["id"], params={"payment_method": "pm_card_chargeCustomerFail"}
    )

    with pytest.raises(PaymentRejected) as rejected:
        stripe_call("payment_intent.confirm", lambda client: client.v1.payment_intents.confirm(intent["id"]))

    card_error = rejected.value.__cause__
    assert isinstance(card_error, stripe.CardError)
    assert card_error.user_message
    assert rejected.value.message == card_error.user_message != PaymentRejected.message
