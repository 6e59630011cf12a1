"""The order page's Mark as shipped / Mark as delivered, with the `orders.ship_order` permission."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse

from shop.orders.models import DisputeStatus, FulfilmentChange, FulfilmentStatus, Order, OrderStatus
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def staff_with(*codenames: str):
    user = get_user_model().objects.create_user(f"staff-{'-'.join(codenames)}", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="orders", codename__in=codenames)
    )
    return user


@pytest.fixture
def shipper(client):
    client.force_login(staff_with("view_order", "ship_order"))
    return client


@pytest.fixture
def viewer(client):
    client.force_login(staff_with("view_order"))
    return client


def ship_url(order) -> str:
    return reverse("admin:orders_order_ship", args=[order.pk])


def delivered_url(order) -> str:
    return reverse("admin:orders_order_delivered", args=[order.pk])


def test_staff_who_may_ship_see_the_button_and_ship(shipper):
    order = OrderFactory(status=OrderStatus.PAID)
    page = shipper.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert ship_url(order) in page and "Mark as shipped" in page

    form = shipper.get(ship_url(order))
    assert form.status_code == 200 and order.number in form.content.decode()

    response = shipper.post(ship_url(order), {"carrier": "ups", "tracking_number": "1z 999-aa1"})

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.fulfilment_status, order.carrier, order.tracking_number) == ("shipped", "ups", "1Z999AA1")
    assert order.shipped_by.username == "staff-view_order-ship_order"
    page = shipper.get(response.url).content.decode()
    assert f"Order {order.number} shipped (UPS 1Z999AA1)." in page
    assert delivered_url(order) in page and "Mark as delivered" in page
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA1"' in page


def test_a_double_submitted_ship_form_ships_once(shipper):
    order = OrderFactory(status=OrderStatus.PAID)
    for _ in range(2):
        response = shipper.post(ship_url(order), {"carrier": "dhl", "tracking_number": "JD0146"})
        assert response.status_code == 302
    assert FulfilmentChange.objects.filter(order=order).count() == 1


def test_staff_without_the_permission_cannot_ship_or_deliver(viewer):
    order = OrderFactory(status=OrderStatus.PAID)
    page = viewer.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert ship_url(order) not in page

    assert viewer.get(ship_url(order)).status_code == 403
    assert viewer.post(ship_url(order), {"carrier": "ups", "tracking_number": "1Z1234"}).status_code == 403
    assert viewer.post(delivered_url(order)).status_code == 403
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED


def test_an_unpaid_order_has_no_ship_button_and_its_ship_page_says_why(shipper):
    order = OrderFactory(status=OrderStatus.PENDING)
    page = shipper.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert ship_url(order) not in page

    response = shipper.get(ship_url(order), follow=True)
    assert "is pending and unfulfilled: it cannot be shipped" in response.content.decode()

    response = shipper.post(ship_url(order), {"carrier": "ups", "tracking_number": "1Z1234"}, follow=True)
    assert "only paid orders ship" in response.content.decode()
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"carrier": "", "tracking_number": "1Z1234"}, "This field is required."),
        ({"carrier": "pigeon", "tracking_number": "1Z1234"}, "Select a valid choice."),
        ({"carrier": "ups", "tracking_number": ""}, "Enter the parcel&#x27;s tracking number."),
        ({"carrier": "ups", "tracking_number": "1Z?"}, "4 to 40 letters and digits"),
    ],
)
def test_a_bad_ship_form_is_a_400_with_the_reason(shipper, data, error):
    order = OrderFactory(status=OrderStatus.PAID)
    response = shipper.post(ship_url(order), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED


def test_mark_as_delivered_is_a_post_and_happens_once(shipper):
    order = OrderFactory(status=OrderStatus.PAID)
    shipper.post(ship_url(order), {"carrier": "fedex", "tracking_number": "7777"})

    assert shipper.get(delivered_url(order)).status_code == 405
    for _ in range(2):
        assert shipper.post(delivered_url(order)).status_code == 302

    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.DELIVERED
    assert FulfilmentChange.objects.filter(order=order).count() == 2


def test_delivering_an_unshipped_order_is_refused_with_a_message(shipper):
    order = OrderFactory(status=OrderStatus.PAID)
    response = shipper.post(delivered_url(order), follow=True)
    assert "has not shipped: it cannot be delivered" in response.content.decode()


def test_ship_page_of_a_missing_order_redirects(shipper):
    response = shipper.get(reverse("admin:orders_order_ship", args=[999999]))
    assert response.status_code == 302


# --- a disputed order ships only once staff confirm ---------------------------------------------


def test_a_disputed_order_asks_for_confirmation_before_it_ships(shipper):
    order = OrderFactory(status=OrderStatus.PAID, dispute_status=DisputeStatus.OPEN)
    parcel = {"carrier": "ups", "tracking_number": "1Z1234"}

    page = shipper.get(ship_url(order)).content.decode()
    assert 'class="dispute-banner"' in page and "payment is disputed" in page
    assert 'name="ship_anyway"' in page

    refused = shipper.post(ship_url(order), parcel)
    assert refused.status_code == 400
    assert "tick &quot;Ship anyway&quot; to ship it" in refused.content.decode()
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED

    shipped = shipper.post(ship_url(order), {**parcel, "ship_anyway": "on"})
    assert shipped.status_code == 302
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.SHIPPED


def test_an_undisputed_order_ships_without_the_question(shipper):
    order = OrderFactory(status=OrderStatus.PAID)

    assert 'name="ship_anyway"' not in shipper.get(ship_url(order)).content.decode()


def test_a_dispute_arriving_while_the_form_is_open_stops_the_shipment(shipper):
    order = OrderFactory(status=OrderStatus.PAID)
    shipper.get(ship_url(order))  # no question: the order was not disputed yet
    Order.objects.filter(pk=order.pk).update(dispute_status=DisputeStatus.OPEN)

    response = shipper.post(ship_url(order), {"carrier": "ups", "tracking_number": "1Z1234"})

    assert response.status_code == 400 and 'name="ship_anyway"' in response.content.decode()
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED


def order_to_pack():
    order = OrderFactory(
        status=OrderStatus.PAID,
        shipping_name="Grace Hopper",
        shipping_line1="1000 N Glebe Rd",
        shipping_city="Arlington",
        shipping_state="VA",
        shipping_postal_code="22201",
        shipping_country="US",
        shipping_phone="+1 703 555 0100",
    )
    order.items.update(quantity=2)
    return order


def test_the_ship_page_shows_where_the_parcel_goes_and_what_goes_in_it(shipper):
    order = order_to_pack()
    item = order.items.get()
    page = shipper.get(ship_url(order)).content.decode()
    address = "Grace Hopper<br>1000 N Glebe Rd<br>ARLINGTON, VA 22201<br>UNITED STATES<br>"
    assert address + "Phone: +1 703 555 0100" in page
    assert f'<td class="num">2</td><td>{item.title}</td><td>{item.book.author}</td>' in page
    assert reverse("admin:orders_order_packing_slip", args=[order.pk]) in page


def test_the_packing_slip_is_printable_by_anyone_who_may_see_the_order(viewer):
    order = order_to_pack()
    url = reverse("admin:orders_order_packing_slip", args=[order.pk])
    page = viewer.get(url).content.decode()
    assert f"Packing slip — order {order.number}" in page
    assert "ARLINGTON, VA 22201<br>UNITED STATES" in page
    assert "1 Test Street" in page  # the shop's address (SHOP_ADDRESS), the parcel's sender
    assert "data-print hidden>Print</button>" in page and "js/print-button.js" in page
    assert url in viewer.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()


def test_the_packing_slip_needs_the_order_view_permission(client):
    client.force_login(staff_with("ship_order"))
    order = order_to_pack()
    assert client.get(reverse("admin:orders_order_packing_slip", args=[order.pk])).status_code == 403
    assert client.get(reverse("admin:orders_order_packing_slip", args=[987654])).status_code == 404
