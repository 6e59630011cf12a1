from shop.orders.models import Order


def order_get_by_payment_intent(*, payment_intent_id: str) -> Order | None:
    return Order.objects.filter(payment_intent_id=payment_intent_id).first()


def order_get_open_checkout(*, checkout_key: str) -> Order | None:
    """The shopper's order for this checkout that is payable or being paid."""
    return (
        Order.objects.filter(checkout_key=checkout_key)
        .exclude(checkout_key="")
        .filter(status__in=["pending", "failed", "processing"])
        .first()
    )
