"""The shipped and refunded emails (issue 11): content, the order page link, each exactly once.

Tasks run inline (the immediate backend of config/settings_test.py), so an
email queued by a change is in the outbox once that change returns.
"""

import pytest
from django.core import mail
from django.urls import reverse

from payments.services.refunds import refund_create
from payments.tests.emulator import paid_order_on_emulator, refund_event, refund_object, staff_user
from payments.tests.events import charge_refunded_event
from shop.orders.access import order_page_url
from shop.orders.emails import order_email_message, refunded_kind
from shop.orders.models import Carrier, OrderEmail, OrderStatus
from shop.orders.services import order_mark_paid, order_mark_shipped, order_record_refunded_total
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def sent(kind_prefix: str) -> list:
    return [message for message in mail.outbox if kind_prefix in message.subject]


def html_of(message) -> str:
    return message.alternatives[0][0]


def test_the_confirmation_links_to_the_order_page():
    order = OrderFactory()
    order_mark_paid(order=order, amount_received=order.total_amount, cause="test")
    [message] = mail.outbox
    url = order_page_url(number=order.number)
    assert url.startswith("https://shop.stripe-press.test/orders/")
    assert url in message.body
    assert f'href="{url}"' in html_of(message)


def test_the_shipped_email_has_carrier_tracking_and_the_link(admin_user):
    order = OrderFactory(status=OrderStatus.PAID, email="ada@example.com")
    order_mark_shipped(
        order=order, carrier=Carrier.USPS, tracking_number="9400100000000000000000", user=admin_user
    )

    [message] = sent("has shipped")
    assert message.to == ["ada@example.com"]
    assert message.subject == f"Your Stripe Press order {order.number} has shipped"
    assert "Shipped with: USPS" in message.body and "9400100000000000000000" in message.body
    tracking = "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400100000000000000000"
    assert tracking in message.body and f'href="{tracking}"' in html_of(message)
    assert order_page_url(number=order.number) in message.body
    assert f'href="{order_page_url(number=order.number)}"' in html_of(message)


def test_shipping_twice_sends_one_email(admin_user):
    order = OrderFactory(status=OrderStatus.PAID)
    for _ in range(2):  # a retried request
        order_mark_shipped(order=order, carrier=Carrier.DHL, tracking_number="JD0146", user=admin_user)
    assert len(sent("has shipped")) == 1
    assert OrderEmail.objects.filter(order=order, kind="shipped").count() == 1


def test_a_double_clicked_ship_button_sends_one_email(client, admin_user):
    client.force_login(admin_user)
    order = OrderFactory(status=OrderStatus.PAID)
    url = reverse("admin:orders_order_ship", args=[order.pk])
    for _ in range(2):
        assert client.post(url, {"carrier": "ups", "tracking_number": "1Z999AA1"}).status_code == 302
    assert len(sent("has shipped")) == 1


def test_a_refused_shipment_sends_nothing(admin_user):
    from shop.orders.services import FulfilmentNotAllowed

    order = OrderFactory(status=OrderStatus.PENDING)
    with pytest.raises(FulfilmentNotAllowed):
        order_mark_shipped(order=order, carrier=Carrier.UPS, tracking_number="1Z", user=admin_user)
    assert mail.outbox == []


def test_the_refunded_email_says_how_much_and_when_it_reaches_the_card():
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300)
    order_record_refunded_total(order=order, amount_refunded=500, cause="test")

    [message] = sent("A refund")
    assert "We have refunded $5.00 on your order" in message.body
    assert "5 to 10 business days" in message.body
    assert "$5.00 of" not in message.body  # the first refund: no running total
    assert order_page_url(number=order.number) in message.body
    assert "We have refunded $5.00" in html_of(message)

    order_record_refunded_total(order=order, amount_refunded=2300, cause="test")
    second = sent("A refund")[1]
    assert "We have refunded $18.00" in second.body
    assert "Refunded on this order so far: $23.00 of $23.00." in second.body


def test_the_same_refund_total_reported_again_sends_nothing_more():
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300)
    for _ in range(3):  # API answer, then webhooks, all cumulative
        order_record_refunded_total(order=order, amount_refunded=1000, cause="test")
    assert len(sent("A refund")) == 1
    assert list(OrderEmail.objects.filter(order=order).values_list("kind", flat=True)) == [
        refunded_kind(from_total=0, to_total=1000)
    ]


def test_a_refund_on_an_order_never_paid_here_sends_nothing():
    order = OrderFactory(status=OrderStatus.CANCELED)
    from shop.orders.services import OrderTransitionNotAllowed

    with pytest.raises(OrderTransitionNotAllowed):
        order_record_refunded_total(order=order, amount_refunded=1000, cause="test")
    assert mail.outbox == []


def test_an_email_kind_event_renders_from_its_kind_alone():
    order = OrderFactory(status=OrderStatus.PARTIALLY_REFUNDED, amount_received=2300, amount_refunded=800)
    message = order_email_message(order=order, kind=refunded_kind(from_total=300, to_total=800))
    assert "We have refunded $5.00" in message.body
    assert "Refunded on this order so far: $8.00 of $23.00." in message.body


@pytest.mark.usefixtures("stripe_emulator")
def test_a_staff_refund_and_its_duplicate_webhooks_send_one_email(post_webhook):
    order = paid_order_on_emulator(total_amount=2300)
    mail.outbox.clear()
    refund = refund_create(order=order, amount=1000, reason="Damaged", user=staff_user())
    stripe_refund = refund_object(
        order, refund_id=refund.stripe_refund_id, amount=1000, metadata={"refund_key": refund.idempotency_key}
    )
    for event in [
        charge_refunded_event(order, amount_refunded=1000),
        refund_event("refund.created", stripe_refund),
        refund_event("refund.updated", stripe_refund),
    ]:
        assert post_webhook(event).status_code == 200
        assert post_webhook(event).status_code == 200  # Stripe delivering it twice

    [message] = sent("A refund")
    assert "We have refunded $10.00" in message.body


@pytest.mark.parametrize(
    ("hosts", "site"),
    [(["shop.example.com"], "https://shop.example.com"), (["*", ".example.org"], "https://example.org")],
)
def test_without_site_url_email_links_are_absolute_on_the_first_allowed_host(settings, hosts, site):
    settings.DEBUG, settings.SITE_URL, settings.ALLOWED_HOSTS = False, "", hosts
    order = OrderFactory(status=OrderStatus.PAID)
    message = order_email_message(order=order, kind="confirmation")
    link = f"{site}/orders/{order.number}/?key="
    assert link in message.body
    assert f'href="{link}' in html_of(message)


@pytest.mark.parametrize("kind", ["confirmation", "shipped", refunded_kind(from_total=0, to_total=500)])
def test_emails_name_the_payment_reference_in_the_shopper_s_words(kind):
    order = OrderFactory(status=OrderStatus.PAID, amount_received=2300, amount_refunded=500)
    message = order_email_message(order=order, kind=kind)
    for text in (message.body, html_of(message)):
        assert "PaymentIntent" not in text
        if order.payment_intent_id in text:
            assert "Payment reference" in text
