import re

import pytest
from django.db import IntegrityError, transaction

from shop.orders.models import ORDER_NUMBER_ALPHABET, Order, OrderItem, OrderStatus, new_order_number
from shop.orders.tests.factories import OrderFactory

NUMBER_PATTERN = re.compile(r"^SP-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}$")


def must_be_refused_by_the_database(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


# --- order number ---------------------------------------------------------------------


def test_order_number_format():
    numbers = {new_order_number() for _ in range(500)}
    assert all(NUMBER_PATTERN.match(number) for number in numbers), numbers
    assert len(numbers) == 500  # 31^8 possibilities: a collision here means a broken generator


def test_order_number_alphabet_has_no_lookalikes():
    assert not set("01OIL") & set(ORDER_NUMBER_ALPHABET)


@pytest.mark.django_db
def test_order_gets_a_number_on_creation():
    order = OrderFactory()
    assert NUMBER_PATTERN.match(order.number)
    assert str(order) == order.number


@pytest.mark.django_db
def test_order_number_is_unique_in_the_database():
    order = OrderFactory()
    must_be_refused_by_the_database(lambda: OrderFactory(number=order.number))
    assert Order.objects.filter(number=order.number).count() == 1


@pytest.mark.django_db
def test_payment_intent_id_is_unique_but_may_be_empty():
    OrderFactory(payment_intent_id="pi_same")
    must_be_refused_by_the_database(lambda: OrderFactory(payment_intent_id="pi_same"))
    OrderFactory(payment_intent_id=None)
    OrderFactory(payment_intent_id=None)
    assert Order.objects.filter(payment_intent_id__isnull=True).count() == 2


# --- constraints ---------------------------------------------------------------------


@pytest.mark.django_db
def test_refund_cannot_exceed_the_total():
    must_be_refused_by_the_database(lambda: OrderFactory(total_amount=2300, amount_refunded=2301))
    order = OrderFactory(total_amount=2300, amount_refunded=2300, status=OrderStatus.REFUNDED)
    order.amount_refunded = 5000
    must_be_refused_by_the_database(order.save)
    assert Order.objects.get(pk=order.pk).amount_refunded == 2300


@pytest.mark.django_db
def test_status_must_be_a_known_status():
    must_be_refused_by_the_database(lambda: OrderFactory(status="shipped"))
    order = OrderFactory()
    must_be_refused_by_the_database(lambda: Order.objects.filter(pk=order.pk).update(status="lost"))
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


@pytest.mark.django_db
@pytest.mark.parametrize(
    "open_status", [OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.PROCESSING], ids=str
)
def test_one_open_checkout_per_key(open_status):
    OrderFactory(checkout_key="session-1:hamming", status=open_status)
    must_be_refused_by_the_database(lambda: OrderFactory(checkout_key="session-1:hamming"))
    assert Order.objects.filter(checkout_key="session-1:hamming").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "closed_status",
    [OrderStatus.PAID, OrderStatus.CANCELED, OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED],
    ids=str,
)
def test_new_checkout_allowed_once_the_first_is_closed(closed_status):
    OrderFactory(checkout_key="session-1:hamming", status=closed_status)
    OrderFactory(checkout_key="session-1:hamming", status=OrderStatus.PENDING)
    assert Order.objects.filter(checkout_key="session-1:hamming").count() == 2


@pytest.mark.django_db
def test_paying_the_first_order_frees_the_checkout_key():
    first = OrderFactory(checkout_key="session-1:hamming")
    must_be_refused_by_the_database(lambda: OrderFactory(checkout_key="session-1:hamming"))
    Order.objects.filter(pk=first.pk).update(status=OrderStatus.PAID)
    second = OrderFactory(checkout_key="session-1:hamming")
    assert second.pk != first.pk


@pytest.mark.django_db
def test_empty_checkout_keys_do_not_collide():
    OrderFactory.create_batch(3, checkout_key="")
    assert Order.objects.filter(checkout_key="", status=OrderStatus.PENDING).count() == 3


@pytest.mark.django_db
def test_order_item_quantity_must_be_positive():
    order = OrderFactory()
    item = order.items.get()
    item.quantity = 0
    must_be_refused_by_the_database(item.save)


# --- properties -----------------------------------------------------------------------


@pytest.mark.parametrize(("unit_amount", "quantity", "expected"), [(2300, 1, 2300), (2500, 3, 7500)])
def test_line_amount(unit_amount, quantity, expected):
    assert OrderItem(title="x", unit_amount=unit_amount, quantity=quantity).line_amount == expected


@pytest.mark.parametrize(
    ("status", "payable"),
    [
        (OrderStatus.PENDING, True),
        (OrderStatus.FAILED, True),
        (OrderStatus.PROCESSING, False),
        (OrderStatus.PAID, False),
        (OrderStatus.CANCELED, False),
        (OrderStatus.PARTIALLY_REFUNDED, False),
        (OrderStatus.REFUNDED, False),
    ],
    ids=str,
)
def test_is_payable(status, payable):
    assert Order(status=status).is_payable is payable


@pytest.mark.parametrize(
    ("total", "received", "refunded", "expected"),
    [
        (2300, 2300, 0, 2300),
        (2300, 2300, 800, 2300),  # refunds do not change what was charged
        (2300, 0, 0, 2300),  # not paid yet: the order total
        (2300, 2000, 500, 2000),  # received less than the total: what was received counts
    ],
)
def test_amount_charged(total, received, refunded, expected):
    order = Order(total_amount=total, amount_received=received, amount_refunded=refunded)
    assert order.amount_charged == expected


def test_total_display():
    assert Order(total_amount=250000, currency="eur").total_display == "€2,500.00"


def test_status_choices_are_the_seven_states():
    assert set(OrderStatus.values) == {
        "pending",
        "processing",
        "paid",
        "failed",
        "canceled",
        "partially_refunded",
        "refunded",
    }
