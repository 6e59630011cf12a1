"""The benchmark's data set: made-up orders with lines, dates spread back, a realistic mix."""

import io
import tracemalloc

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from shop.orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db


def test_it_creates_orders_with_lines_over_the_days_asked():
    call_command("generate_sales_data", orders=300, days=30, seed=1, stdout=io.StringIO())

    assert Order.objects.count() == 300
    assert not Order.objects.annotate(lines=Count("items")).filter(lines=0).exists()
    oldest = Order.objects.order_by("created_at").first().created_at
    assert timezone.now() - oldest > timezone.timedelta(days=20)  # dates as given, not all "now"
    statuses = set(Order.objects.values_list("status", flat=True))
    assert {OrderStatus.PAID, OrderStatus.REFUNDED, OrderStatus.PENDING} <= statuses
    for order in Order.objects.filter(status=OrderStatus.PAID)[:20]:
        assert order.total_amount == sum(item.line_amount for item in order.items.all())
        assert order.paid_at >= order.created_at

    call_command("generate_sales_data", orders=10, days=5, stdout=io.StringIO())  # adds, never collides
    assert Order.objects.count() == 310


def test_it_refuses_nonsense():
    with pytest.raises(CommandError):
        call_command("generate_sales_data", orders=0, stdout=io.StringIO())


def _export_peak(client, monkeypatch) -> tuple[int, int]:
    """(rows, peak bytes allocated) while the CSV export of every order is read."""
    monkeypatch.setattr("shop.orders.export.CHUNK_SIZE", 100)
    response = client.get("/admin/orders/order/export.csv")
    rows = 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            rows += 1
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return rows, peak


def test_the_export_memory_does_not_grow_with_the_orders(admin_client, monkeypatch):
    call_command("generate_sales_data", orders=400, days=30, stdout=io.StringIO())
    small_rows, small_peak = _export_peak(admin_client, monkeypatch)
    call_command("generate_sales_data", orders=3600, days=30, stdout=io.StringIO())
    large_rows, large_peak = _export_peak(admin_client, monkeypatch)

    assert large_rows == Order.objects.count() + 1 > 8 * small_rows  # one row per order
    # Ten times the rows, about the same memory (a chunk of 100 rows at a time), not ten times.
    assert large_peak < 2 * small_peak, (small_peak, large_peak)
