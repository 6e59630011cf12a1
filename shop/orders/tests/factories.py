import factory

from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderItem, OrderStatus


class OrderFactory(factory.django.DjangoModelFactory):
    """A pending $23.00 order with one line.

    `OrderFactory(items__book=book, total_amount=book.price_amount)` uses a given
    book; `OrderFactory(items=False)` makes no line.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    status = OrderStatus.PENDING
    currency = "usd"
    total_amount = 2300
    payment_intent_id = factory.Sequence(lambda n: f"pi_test{n:08d}")

    @factory.post_generation
    def items(order, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        book = kwargs.get("book") or BookFactory(price_amount=order.total_amount, currency=order.currency)
        OrderItem.objects.create(order=order, book=book, title=book.title, unit_amount=book.price_amount)
