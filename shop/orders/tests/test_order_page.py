"""The shopper's order page and receipt: the access key, what each state shows, the headers."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from shop.catalog.tests.factories import BookFactory
from shop.orders import access
from shop.orders.access import (
    ACCESS_KEY_LENGTH,
    order_access_key,
    order_access_key_valid,
    order_page_path,
    order_page_url,
    order_receipt_path,
)
from shop.orders.models import Carrier, FulfilmentStatus, OrderItem, OrderStatus
from shop.orders.services import order_mark_delivered, order_mark_shipped, order_record_refunded_total
from shop.orders.tests.factories import OrderFactory
from tests.unreachable import closed_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def paid_order(**fields):
    defaults = {"status": OrderStatus.PAID, "amount_received": 2300, "paid_at": timezone.now()}
    return OrderFactory(**{**defaults, **fields})


def visit(client, order, *, key=None, receipt=False):
    name = "orders:receipt" if receipt else "orders:detail"
    key = order_access_key(number=order.number) if key is None else key
    return client.get(reverse(name, args=[order.number]), {"key": key})


# --- the access key -----------------------------------------------------------------------


def test_the_key_is_long_stable_and_different_per_order():
    first, second = OrderFactory(), OrderFactory()
    key = order_access_key(number=first.number)
    assert len(key) == ACCESS_KEY_LENGTH  # 32 base64url characters: 192 bits
    assert key == order_access_key(number=first.number)
    assert key != order_access_key(number=second.number)
    assert order_access_key_valid(number=first.number, key=key)
    assert not order_access_key_valid(number=second.number, key=key)


def test_the_key_depends_on_the_secret_key_and_survives_rotation_through_fallbacks(settings):
    order = OrderFactory()
    old_key = order_access_key(number=order.number)
    settings.SECRET_KEY = "another-secret-" + "q" * 50
    assert order_access_key(number=order.number) != old_key
    assert not order_access_key_valid(number=order.number, key=old_key)
    settings.SECRET_KEY_FALLBACKS = ["test-secret-key-" + "x7Qp2Lm9" * 8]
    assert order_access_key_valid(number=order.number, key=old_key)


def test_the_key_is_compared_in_constant_time(monkeypatch):
    order = OrderFactory()
    compared = []
    real = access.constant_time_compare

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access, "constant_time_compare", spy)
    wrong = "A" * ACCESS_KEY_LENGTH
    assert not order_access_key_valid(number=order.number, key=wrong)
    assert compared and compared[0][0] == wrong


def test_nothing_about_the_key_is_stored_on_the_order():
    order = OrderFactory()
    key = order_access_key(number=order.number)
    for field in order._meta.concrete_fields:
        assert key not in str(field.value_from_object(order))


@pytest.mark.parametrize("key", ["", "short", "A" * ACCESS_KEY_LENGTH, "A" * 500])
def test_a_wrong_or_missing_key_is_a_404_that_reveals_nothing(client, key):
    order = paid_order(email="private@example.com")
    for receipt in (False, True):
        response = visit(client, order, key=key, receipt=receipt)
        assert response.status_code == 404
        body = response.content.decode()
        assert order.number not in body and "private@example.com" not in body
        assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_another_orders_key_is_a_404_the_same_as_an_unknown_order(client):
    mine, theirs = paid_order(), paid_order(email="theirs@example.com")
    borrowed = client.get(
        reverse("orders:detail", args=[theirs.number]), {"key": order_access_key(number=mine.number)}
    )
    unknown = client.get(
        reverse("orders:detail", args=["SP-NOSUCH99"]), {"key": order_access_key(number="SP-NOSUCH99")}
    )
    assert borrowed.status_code == unknown.status_code == 404
    assert "theirs@example.com" not in borrowed.content.decode()
    assert borrowed.content == unknown.content


def test_the_page_is_private_noindex_uncached_and_sends_no_referrer(client):
    response = visit(client, paid_order())
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in body
    assert '<meta name="referrer" content="no-referrer">' in body


def test_guesses_are_rate_limited_per_client_and_then_even_the_right_key_is_refused(client, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_IP = 3
    order = paid_order()
    guesses = ("", "wrong", "x" * ACCESS_KEY_LENGTH)
    statuses = [visit(client, order, key=wrong).status_code for wrong in guesses]
    statuses.append(visit(client, order, key="wrong").status_code)
    statuses.append(visit(client, order).status_code)  # the key is not even checked once over the limit
    assert statuses == [404, 404, 404, 429, 429]
    refused = visit(client, order, receipt=True)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many requests for order pages" in refused.content.decode()


def test_a_right_key_is_no_guess_and_costs_no_count(client, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_IP = 3
    order = paid_order()
    assert [visit(client, order, receipt=i % 2 == 1).status_code for i in range(8)] == [200] * 8
    assert [visit(client, order, key="wrong").status_code for _ in range(4)] == [404, 404, 404, 429]


def test_guesses_are_still_limited_with_the_cache_down(client, settings):
    settings.ORDER_PAGE_RATE_LIMIT_PER_IP = 2
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    order = paid_order()
    assert visit(client, order).status_code == 200
    assert [visit(client, order, key="wrong").status_code for _ in range(3)] == [404, 404, 429]
    assert visit(client, order).status_code == 429  # counted in this process while the cache is down


def test_the_refusal_ends_with_its_window(client, settings, limiter_clock):
    settings.ORDER_PAGE_RATE_LIMIT_PER_IP = 1
    order = paid_order()
    start = 600.0 * 1_700_000  # a window boundary (CHECKOUT_RATE_LIMIT_WINDOW is 600 in tests)
    limiter_clock.time = lambda: start + 10
    assert [visit(client, order, key="wrong").status_code for _ in range(2)] == [404, 429]
    limiter_clock.time = lambda: start + 599.5
    last = visit(client, order)
    assert (last.status_code, last["Retry-After"]) == (429, "1")
    limiter_clock.time = lambda: start + 600
    assert visit(client, order).status_code == 200


def test_links_carry_the_key_and_emails_an_absolute_url(settings):
    order = OrderFactory()
    key = order_access_key(number=order.number)
    assert order_page_path(number=order.number) == f"/orders/{order.number}/?key={key}"
    assert order_receipt_path(number=order.number) == f"/orders/{order.number}/receipt/?key={key}"
    assert (
        order_page_url(number=order.number)
        == f"https://shop.stripe-press.test/orders/{order.number}/?key={key}"
    )


def test_only_get_is_answered(client):
    order = paid_order()
    path = order_page_path(number=order.number)
    assert client.post(path).status_code == 405


# --- what the page shows --------------------------------------------------------------------


def steps(response) -> dict[str, str]:
    """{step: state} of the page's timeline."""
    timeline = response.context["timeline"]
    return {step.key: step.state for step in timeline}


def test_a_paid_order_shows_its_lines_totals_payment_and_next_steps(client):
    order = OrderFactory(
        items=False,
        status=OrderStatus.PAID,
        total_amount=2300 * 2 + 499,
        shipping_amount=499,
        shipping_name="Ada Lovelace",
        shipping_line1="12 St James's Square",
        shipping_city="London",
        shipping_postal_code="SW1Y 4JH",
        shipping_country="GB",
        shipping_phone="+44 20 7946 0000",
        amount_received=4599,
        paid_at=timezone.now(),
        card_brand="visa",
        card_last4="4242",
    )
    book = BookFactory(title="The Dream Machine", price_amount=2300)
    OrderItem.objects.create(order=order, book=book, title=book.title, unit_amount=2300, quantity=2)

    response = visit(client, order)
    body = response.content.decode()
    assert steps(response) == {"ordered": "done", "paid": "done", "shipped": "current", "delivered": "next"}
    assert order.number in body and "The Dream Machine" in body
    assert "$46.00" in body and "$4.99" in body and "$45.99" in body
    assert order.payment_intent_id in body
    assert "Visa ending in 4242" in body
    address = "Ada Lovelace<br>12 St James&#x27;s Square<br>LONDON<br>SW1Y 4JH<br>UNITED KINGDOM"
    assert address + "<br>+44 20 7946 0000" in body
    assert order_receipt_path(number=order.number) in body


def test_a_shipped_order_shows_carrier_and_tracking_link(client, admin_user):
    order = paid_order()
    order_mark_shipped(
        order=order, carrier=Carrier.UPS, tracking_number="1Z999AA10123456784", user=admin_user
    )

    response = visit(client, order)
    body = response.content.decode()
    assert steps(response) == {"ordered": "done", "paid": "done", "shipped": "done", "delivered": "next"}
    assert "With UPS." in body and "1Z999AA10123456784" in body
    assert 'href="https://www.ups.com/track?tracknum=1Z999AA10123456784" rel="noreferrer noopener"' in body

    order_mark_delivered(order=order, user=admin_user)
    assert steps(visit(client, order))["delivered"] == "done"


def test_refunds_show_their_amounts(client):
    order = paid_order()
    order_record_refunded_total(order=order, amount_refunded=500, cause="test")
    body = visit(client, order).content.decode()
    assert "Partially refunded" in body and "$5.00 of $23.00 refunded." in body
    assert "5–10 business days" in body

    order_record_refunded_total(order=order, amount_refunded=2300, cause="test")
    response = visit(client, order)
    assert steps(response) == {"ordered": "done", "paid": "done", "not_to_ship": "done", "refunded": "done"}
    assert "$23.00 refunded in full." in response.content.decode()


def test_a_failed_payment_links_to_trying_again_while_payable(client):
    order = OrderFactory(status=OrderStatus.FAILED, failure_message="Your card was declined.")
    response = visit(client, order)
    body = response.content.decode()
    assert steps(response) == {"ordered": "done", "failed": "current"}
    assert "Your card was declined." in body
    book = order.items.get().book
    assert f'id="try-again" href="{reverse("payments:checkout", args=[book.slug])}"' in body

    order.status = OrderStatus.CANCELED
    order.save()
    response = visit(client, order)
    assert steps(response) == {"ordered": "done", "canceled": "done"}
    assert 'id="try-again"' not in response.content.decode()


def test_pending_and_processing_orders_say_so(client):
    assert steps(visit(client, OrderFactory())) == {"ordered": "done", "paid": "current"}
    assert steps(visit(client, OrderFactory(status=OrderStatus.PROCESSING))) == {
        "ordered": "done",
        "processing": "current",
    }


def test_the_receipt_has_the_shop_address_order_lines_and_refund(client):
    order = paid_order(
        card_brand="mastercard", card_last4="4444", amount_refunded=300, status=OrderStatus.PARTIALLY_REFUNDED
    )
    response = visit(client, order, receipt=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<strong>Stripe Press</strong><br>1 Test Street<br>Testville, CA 94000<br>USA" in body
    assert f'Receipt for order <span id="order-number">{order.number}</span>' in body
    assert "Mastercard ending in 4444" in body
    assert "−$3.00" in body and "$23.00" in body
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_print_stylesheet_hides_navigation_and_shows_the_shop_address():
    from django.conf import settings

    css = (settings.BASE_DIR / "static" / "css" / "shop.css").read_text()
    print_rules = css[css.index("@media print") :]
    for selector in (".site-header", ".site-footer", ".no-print", ".test-mode-banner"):
        assert selector in print_rules.split("display: none")[0]
    assert ".receipt-shop {\n    display: block;" in print_rules


def test_an_unshipped_order_fully_refunded_will_not_ship(client):
    order = paid_order()
    order_record_refunded_total(order=order, amount_refunded=2300, cause="test")
    order.refresh_from_db()
    assert order.fulfilment_status == FulfilmentStatus.NOT_TO_SHIP
    assert "Will not ship" in visit(client, order).content.decode()


def test_the_receipt_has_a_print_button_that_needs_no_inline_script(client):
    order = paid_order()
    page = visit(client, order, receipt=True).content.decode()
    assert '<button class="button" type="button" id="print-button" data-print hidden>Print</button>' in page
    assert 'src="/static/js/print-button.js"' in page
