"""Fulfilment: unfulfilled -> shipped -> delivered, or not to ship after a full refund."""

import pytest
from django.contrib.auth import get_user_model

from shop.orders.carriers import carrier_tracking_url
from shop.orders.models import Carrier, DisputeStatus, FulfilmentChange, FulfilmentStatus, Order, OrderStatus
from shop.orders.services import (
    FULFILMENT_TRANSITIONS,
    FulfilmentNotAllowed,
    order_mark_delivered,
    order_mark_disputed,
    order_mark_shipped,
    order_record_refunded_total,
)
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(db):
    return get_user_model().objects.create_user("clerk", password="x", is_staff=True)


def changes(order: Order) -> list[tuple[str, str, str]]:
    return list(
        FulfilmentChange.objects.filter(order=order)
        .order_by("id")
        .values_list("from_status", "to_status", "cause")
    )


def test_every_fulfilment_status_has_rules():
    assert set(FULFILMENT_TRANSITIONS) == set(FulfilmentStatus.values)


@pytest.mark.parametrize("status", [OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED], ids=str)
def test_a_paid_order_ships_with_tracking_and_one_audit_row(status, clerk):
    order = OrderFactory(status=status)

    shipped = order_mark_shipped(
        order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=clerk
    )

    order.refresh_from_db()
    assert shipped.fulfilment_status == order.fulfilment_status == FulfilmentStatus.SHIPPED
    assert order.status == status  # the payment status is untouched
    assert (order.carrier, order.tracking_number) == (Carrier.UPS, "1Z999AA10123456784")
    assert order.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert order.shipped_at is not None and order.shipped_by == clerk
    assert changes(order) == [("unfulfilled", "shipped", "staff clerk")]
    assert FulfilmentChange.objects.get(order=order).changed_by == clerk


@pytest.mark.parametrize(
    "status",
    [
        OrderStatus.PENDING,
        OrderStatus.PROCESSING,
        OrderStatus.FAILED,
        OrderStatus.CANCELED,
        OrderStatus.REFUNDED,
    ],
    ids=str,
)
def test_an_unpaid_or_refunded_order_cannot_ship(status, clerk):
    order = OrderFactory(status=status)

    with pytest.raises(FulfilmentNotAllowed) as refused:
        order_mark_shipped(order=order, carrier=Carrier.USPS, tracking_number="9400", user=clerk)

    assert "only paid orders ship" in refused.value.message
    order.refresh_from_db()
    assert (order.fulfilment_status, order.tracking_number, order.shipped_at) == ("unfulfilled", "", None)
    assert changes(order) == []


def test_shipping_twice_with_the_same_parcel_is_a_no_op(clerk):
    order = OrderFactory(status=OrderStatus.PAID)
    first = order_mark_shipped(order=order, carrier=Carrier.DHL, tracking_number="JD014600", user=clerk)
    again = order_mark_shipped(order=order, carrier=Carrier.DHL, tracking_number="JD014600", user=clerk)

    assert again.shipped_at == first.shipped_at
    assert changes(order) == [("unfulfilled", "shipped", "staff clerk")]


def test_shipping_again_with_another_parcel_is_refused(clerk):
    order = OrderFactory(status=OrderStatus.PAID)
    order_mark_shipped(order=order, carrier=Carrier.DHL, tracking_number="JD014600", user=clerk)

    with pytest.raises(FulfilmentNotAllowed, match="shipped already"):
        order_mark_shipped(order=order, carrier=Carrier.FEDEX, tracking_number="7777", user=clerk)

    order.refresh_from_db()
    assert (order.carrier, order.tracking_number) == (Carrier.DHL, "JD014600")
    assert len(changes(order)) == 1


def test_delivered_after_shipped_and_twice_is_a_no_op(clerk):
    order = OrderFactory(status=OrderStatus.PAID)
    order_mark_shipped(order=order, carrier=Carrier.OTHER, tracking_number="LOCAL-1", user=clerk)

    order_mark_delivered(order=order, user=clerk)
    order_mark_delivered(order=order, user=clerk)

    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.DELIVERED and order.delivered_at is not None
    assert order.tracking_url == ""  # "Other" has no tracking page
    assert [c[:2] for c in changes(order)] == [("unfulfilled", "shipped"), ("shipped", "delivered")]


@pytest.mark.parametrize("fulfilment", [FulfilmentStatus.UNFULFILLED, FulfilmentStatus.NOT_TO_SHIP], ids=str)
def test_an_order_that_has_not_shipped_cannot_be_delivered(fulfilment, clerk):
    order = OrderFactory(status=OrderStatus.PAID, fulfilment_status=fulfilment)

    with pytest.raises(FulfilmentNotAllowed, match="has not shipped"):
        order_mark_delivered(order=order, user=clerk)

    order.refresh_from_db()
    assert order.fulfilment_status == fulfilment and order.delivered_at is None
    assert changes(order) == []


def test_a_delivered_order_cannot_ship_again(clerk):
    order = OrderFactory(status=OrderStatus.PAID)
    order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z1", user=clerk)
    order_mark_delivered(order=order, user=clerk)

    with pytest.raises(FulfilmentNotAllowed, match="delivered already"):
        order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z2", user=clerk)


def test_a_full_refund_before_shipping_means_not_to_ship():
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300)

    order_record_refunded_total(order=order, amount_refunded=800, cause="re_part")
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED  # still to ship

    order_record_refunded_total(order=order, amount_refunded=2300, cause="re_rest")
    order_record_refunded_total(order=order, amount_refunded=2300, cause="evt_same_again")

    order.refresh_from_db()
    assert (order.status, order.fulfilment_status) == (OrderStatus.REFUNDED, FulfilmentStatus.NOT_TO_SHIP)
    assert changes(order) == [("unfulfilled", "not_to_ship", "refunded: re_rest")]


def test_a_full_refund_after_shipping_keeps_the_shipment(clerk):
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300)
    order_mark_shipped(order=order, carrier=Carrier.ROYAL_MAIL, tracking_number="AB123456789GB", user=clerk)

    order_record_refunded_total(order=order, amount_refunded=2300, cause="re_returned")

    order.refresh_from_db()
    assert (order.status, order.fulfilment_status) == (OrderStatus.REFUNDED, FulfilmentStatus.SHIPPED)
    assert len(changes(order)) == 1


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        (Carrier.USPS, "https://tools.usps.com/go/TrackConfirmAction?tLabels=94%2F00%20X"),
        (Carrier.FEDEX, "https://www.fedex.com/fedextrack/?trknbr=94%2F00%20X"),
        (
            Carrier.CANADA_POST,
            "https://www.canadapost-postescanada.ca/track-reperage/en#/details/94%2F00%20X",
        ),
        (Carrier.OTHER, ""),
    ],
    ids=str,
)
def test_tracking_urls_are_built_from_the_carrier_with_the_number_quoted(carrier, expected):
    assert carrier_tracking_url(carrier=carrier, tracking_number="94/00 X") == expected


@postgres_only
def test_two_concurrent_ship_requests_ship_once(transactional_db):
    clerk = get_user_model().objects.create_user("racer", password="x", is_staff=True)
    order = OrderFactory(status=OrderStatus.PAID)

    results = run_at_once(
        lambda: order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z1", user=clerk),
        lambda: order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z1", user=clerk),
        lambda: order_mark_shipped(order=order, carrier=Carrier.FEDEX, tracking_number="77", user=clerk),
    )

    refused = [r for r in results if isinstance(r, FulfilmentNotAllowed)]
    others = [r for r in results if isinstance(r, Exception) and not isinstance(r, FulfilmentNotAllowed)]
    assert others == []
    assert len(refused) in (1, 2)  # UPS won (FedEx refused) or FedEx won (both UPS refused)
    assert len(changes(order)) == 1


def test_a_disputed_order_ships_only_when_staff_confirm(clerk):
    order = OrderFactory(status=OrderStatus.PAID, dispute_status=DisputeStatus.LOST)

    with pytest.raises(FulfilmentNotAllowed, match="disputed \\(dispute lost\\).*Confirm to ship"):
        order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z1", user=clerk)
    assert changes(order) == []

    shipped = order_mark_shipped(
        order=order, carrier=Carrier.UPS, tracking_number="1Z1", user=clerk, ship_disputed=True
    )
    assert shipped.fulfilment_status == FulfilmentStatus.SHIPPED


def test_a_disputed_order_is_recorded_with_an_audit_row_once():
    order = OrderFactory(status=OrderStatus.PAID)

    for _ in range(2):
        marked = order_mark_disputed(
            order=order, dispute_status=DisputeStatus.OPEN, cause="stripe event evt_1"
        )
    order_mark_disputed(order=order, dispute_status=DisputeStatus.WON, cause="stripe event evt_2")

    order.refresh_from_db()
    assert marked.is_disputed and order.dispute_status == DisputeStatus.WON
    causes = list(order.status_changes.values_list("cause", flat=True))
    assert causes == [
        "stripe event evt_1: Not disputed -> Disputed",
        "stripe event evt_2: Disputed -> Dispute won",
    ]
    with pytest.raises(ValueError):
        order_mark_disputed(order=order, dispute_status="chargeback", cause="x")
