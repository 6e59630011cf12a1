import factory

from payments.models import Refund, RefundStatus, WebhookEvent
from shop.orders.tests.factories import OrderFactory


class WebhookEventFactory(factory.django.DjangoModelFactory):
    """A stored `payment_intent.succeeded` event, processed, for `order` (None: no order).

    For the admin and the event log; webhook tests post real signed events instead
    (payments/tests/events.py).
    """

    class Meta:
        model = WebhookEvent

    stripe_event_id = factory.Sequence(lambda n: f"evt_factory{n:06d}")
    type = "payment_intent.succeeded"
    payload = factory.LazyAttribute(lambda event: {"id": event.stripe_event_id, "type": event.type})
    order = factory.SubFactory(OrderFactory)
    payment_intent_id = factory.LazyAttribute(
        lambda event: event.order.payment_intent_id if event.order else ""
    )
    outcome = WebhookEvent.Outcome.PROCESSED


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund of $7.00 asked for here and not answered by Stripe yet (no Stripe id)."""

    class Meta:
        model = Refund

    order = factory.SubFactory(OrderFactory)
    amount = 700
    currency = factory.LazyAttribute(lambda refund: refund.order.currency)
    status = RefundStatus.PENDING
    reason = "Damaged in transit"
    idempotency_key = factory.Sequence(lambda n: f"refund-factory-{n}")
