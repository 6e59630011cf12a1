"""Fill the database with made-up orders for the sales overview's benchmark (benchmarks/).

    python manage.py generate_sales_data --orders 100000 --days 120

Orders are built with factory-boy (a development dependency: this command is
for development and benchmarks, never production data) and written with
bulk_create in batches, so 100,000 orders take seconds, not an hour. They
are spread over the last `--days` days with a realistic mix: mostly paid,
some refunded, pending, failed or canceled; older paid orders shipped.
"""

import random
from contextlib import contextmanager
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from shop.catalog.models import Book
from shop.orders.models import ORDER_NUMBER_ALPHABET, Carrier, FulfilmentStatus, Order, OrderItem, OrderStatus

BATCH = 5000
STATUS_WEIGHTS = {
    OrderStatus.PAID: 70,
    OrderStatus.PARTIALLY_REFUNDED: 5,
    OrderStatus.REFUNDED: 5,
    OrderStatus.PENDING: 8,
    OrderStatus.FAILED: 6,
    OrderStatus.CANCELED: 6,
}


@contextmanager
def created_at_as_given():
    """bulk_create would stamp every order with now (auto_now_add): keep the made-up dates."""
    field = Order._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


class Command(BaseCommand):
    help = "Create made-up orders (factory-boy, bulk_create) for the sales overview benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=120, help="Spread them over this many days.")
        parser.add_argument("--seed", type=int, default=11)

    def handle(self, *, orders: int, days: int, seed: int, **options):
        try:
            from shop.catalog.tests.factories import BookFactory
            from shop.orders.tests.factories import OrderFactory
        except ImportError as exc:  # factory-boy is in requirements-dev.txt only
            raise CommandError(f"Install the development requirements first ({exc}).") from exc
        if orders < 1 or days < 1:
            raise CommandError("--orders and --days must be at least 1.")
        rng = random.Random(seed)
        books = list(Book.objects.filter(is_active=True)[:20]) or BookFactory.create_batch(3)
        numbers = _unique_numbers(rng, orders)
        run = f"{timezone.now():%Y%m%d%H%M%S}{rng.randrange(1000):03d}"
        now = timezone.now()
        statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
        made = 0
        with created_at_as_given():
            while made < orders:
                size = min(BATCH, orders - made)
                batch, lines = [], []
                for index in range(made, made + size):
                    created = now - timedelta(seconds=rng.randrange(days * 86400))
                    chosen = [
                        (rng.choice(books), rng.choice((1, 1, 1, 2, 3)))
                        for _ in range(rng.choice((1, 1, 2, 3)))
                    ]
                    total = sum(book.price_amount * quantity for book, quantity in chosen)
                    batch.append(
                        OrderFactory.build(
                            number=numbers[index],
                            payment_intent_id=f"pi_gen{run}x{index}",
                            created_at=created,
                            total_amount=total,
                            **_payment(rng, rng.choices(statuses, weights)[0], created, now, total),
                        )
                    )
                    lines.append(chosen)
                with transaction.atomic():
                    Order.objects.bulk_create(batch)
                    OrderItem.objects.bulk_create(
                        OrderItem(
                            order=order,
                            book=book,
                            title=book.title,
                            unit_amount=book.price_amount,
                            quantity=qty,
                        )
                        for order, chosen in zip(batch, lines, strict=True)
                        for book, qty in chosen
                    )
                made += size
                self.stdout.write(f"{made} orders")
        self.stdout.write(self.style.SUCCESS(f"Created {orders} orders over the last {days} days."))


def _unique_numbers(rng: random.Random, count: int) -> list[str]:
    taken = set(Order.objects.values_list("number", flat=True)) if Order.objects.exists() else set()
    numbers: list[str] = []
    while len(numbers) < count:
        number = "SP-" + "".join(rng.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))
        if number not in taken:
            taken.add(number)
            numbers.append(number)
    return numbers


def _payment(rng: random.Random, status: str, created, now, total: int) -> dict:
    """The payment and fulfilment fields of an order in `status`, made `created`."""
    fields: dict = {"status": status}
    if status in (OrderStatus.PENDING, OrderStatus.FAILED, OrderStatus.CANCELED):
        return fields
    fields.update(paid_at=created + timedelta(seconds=rng.randrange(5, 120)), amount_received=total)
    if status == OrderStatus.REFUNDED:
        fields.update(amount_refunded=total, fulfilment_status=FulfilmentStatus.NOT_TO_SHIP)
        return fields
    if status == OrderStatus.PARTIALLY_REFUNDED:
        fields["amount_refunded"] = max(total // 4, 1)
    if now - created > timedelta(days=2):
        shipped = created + timedelta(days=1)
        fields.update(
            fulfilment_status=FulfilmentStatus.DELIVERED
            if now - created > timedelta(days=7)
            else FulfilmentStatus.SHIPPED,
            carrier=Carrier.USPS,
            tracking_number=f"9400{rng.randrange(10**12):012d}",
            shipped_at=shipped,
        )
    return fields
