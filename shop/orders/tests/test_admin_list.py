"""The order list and the admin home: fulfilment filter, To ship link, customer view, sales overview."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from shop.orders.models import Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


def staff_with(*codenames: str):
    user = get_user_model().objects.create_user("staff-" + "-".join(codenames), password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    return user


def listed(response) -> list[Order]:
    return list(response.context["cl"].result_list)


def test_the_admin_home_links_to_ship_paid_unfulfilled_oldest_first(admin_client):
    now = timezone.now()
    newer = OrderFactory(status=OrderStatus.PAID)
    older = OrderFactory(status=OrderStatus.PARTIALLY_REFUNDED)
    Order.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=3))
    Order.objects.filter(pk=newer.pk).update(created_at=now - timedelta(days=1))
    OrderFactory(status=OrderStatus.PAID, fulfilment_status="shipped")
    OrderFactory(status=OrderStatus.PENDING)
    OrderFactory(status=OrderStatus.REFUNDED, fulfilment_status="not_to_ship")

    home = admin_client.get(reverse("admin:index"))
    link = home.context["to_ship_url"]
    assert "To ship: 2 orders" in home.content.decode()

    response = admin_client.get(link)
    assert [order.pk for order in listed(response)] == [older.pk, newer.pk]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("shipped", {"shipped"}), ("not_to_ship", {"not_to_ship"}), ("unfulfilled", {"unfulfilled"})],
)
def test_the_list_filters_by_fulfilment(admin_client, value, expected):
    for status in ("unfulfilled", "shipped", "not_to_ship"):
        OrderFactory(status=OrderStatus.PAID, fulfilment_status=status)
    response = admin_client.get(CHANGELIST, {"fulfilment": value})
    assert {order.fulfilment_status for order in listed(response)} == expected


def test_the_email_links_to_the_customers_orders_with_their_total(admin_client):
    OrderFactory(email="Ada@example.com", status=OrderStatus.PAID, amount_received=2300)
    OrderFactory(
        email="ada@example.com",
        status=OrderStatus.PARTIALLY_REFUNDED,
        amount_received=2300,
        amount_refunded=300,
        paid_at=timezone.now(),
    )
    OrderFactory(email="ada@example.com", status=OrderStatus.PENDING)
    OrderFactory(email="grace@example.com")
    Order.objects.filter(status=OrderStatus.PAID).update(paid_at=timezone.now())

    page = admin_client.get(CHANGELIST).content.decode()
    assert f'href="{CHANGELIST}?email__iexact=ada%40example.com"' in page

    response = admin_client.get(CHANGELIST, {"email__iexact": "ada@example.com"})
    assert {order.email.lower() for order in listed(response)} == {"ada@example.com"}
    assert len(listed(response)) == 3
    assert "ada@example.com: 3 orders, paid (less refunds) $43.00." in response.content.decode()


def test_the_order_list_costs_the_same_queries_for_many_orders(admin_client):
    OrderFactory.create_batch(3, status=OrderStatus.PAID)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(CHANGELIST).status_code == 200
    OrderFactory.create_batch(40, status=OrderStatus.PAID)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(CHANGELIST).status_code == 200
    assert len(many) == len(few)


# --- the admin home ---------------------------------------------------------------------------


def test_staff_without_view_sales_see_no_overview(client):
    client.force_login(staff_with("view_order"))
    OrderFactory(status=OrderStatus.PAID)
    page = client.get(reverse("admin:index")).content.decode()
    assert "To ship: 1 order" in page
    assert "sales-overview" not in page


def test_staff_who_cannot_see_orders_see_neither(client):
    client.force_login(staff_with())
    page = client.get(reverse("admin:index")).content.decode()
    assert "To ship" not in page and "sales-overview" not in page


def test_the_overview_shows_for_view_sales_with_a_chart_and_its_table(client):
    client.force_login(staff_with("view_order", "view_sales"))
    OrderFactory(status=OrderStatus.PAID, amount_received=2300, paid_at=timezone.now())
    OrderFactory(status=OrderStatus.PAID, needs_review=True)

    response = client.get(reverse("admin:index"), {"days": "7"})

    page = response.content.decode()
    assert "Sales, last 7 days (USD)" in page
    assert '<svg viewBox="0 0 720 278" role="img"' in page
    assert page.count('<rect class="chart-revenue"') == 7
    assert '<th scope="row">Today</th><td>$23.00</td><td>1</td>' in page
    assert "Needing review: 1 order" in page
    assert "Failed webhook events: 0" in page  # payments' figure, registered from its AppConfig
    assert 'aria-current="page">7 days' in page
    assert " style=" not in page.split('class="sales-overview"')[1].split("</section>")[0]


@pytest.mark.parametrize("days", ["", "8", "abc", "-1", "9" * 30])
def test_an_unknown_period_shows_30_days(admin_client, days):
    response = admin_client.get(reverse("admin:index"), {"days": days})
    assert response.status_code == 200
    assert "Sales, last 30 days" in response.content.decode()


def test_the_admin_home_costs_the_same_queries_for_many_orders(admin_client):
    OrderFactory.create_batch(2, status=OrderStatus.PAID, paid_at=timezone.now())
    with CaptureQueriesContext(connection) as few:
        admin_client.get(reverse("admin:index"))
    OrderFactory.create_batch(30, status=OrderStatus.PAID, paid_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        admin_client.get(reverse("admin:index"))
    assert len(many) == len(few)


def test_sales_staff_who_cannot_see_orders_get_figures_without_order_links(client):
    client.force_login(staff_with("view_sales"))
    OrderFactory(status=OrderStatus.PAID)
    page = client.get(reverse("admin:index")).content.decode()
    assert "To ship: 1 order" in page
    assert "?fulfilment=to_ship" not in page and "needs_review__exact" not in page


def test_the_review_column_marks_only_the_orders_that_need_review(admin_client):
    flagged = OrderFactory(needs_review=True)
    OrderFactory(needs_review=False)
    page = admin_client.get(CHANGELIST).content.decode()
    assert page.count('<span class="needs-review">Needs review</span>') == 1
    assert "icon-no.svg" not in page and "icon-yes.svg" not in page
    rows = page.split("<tr")
    assert [row for row in rows if "Needs review</span>" in row][0].count(flagged.number) >= 1
