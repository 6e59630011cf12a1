"""The Django admin as staff use it: pages load, search and filters find orders, money is safe."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments.models import RefundStatus, WebhookEvent
from payments.tests.events import payment_intent_event
from payments.tests.factories import RefundFactory, WebhookEventFactory
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderStatus
from shop.orders.services import order_create, order_mark_paid
from shop.orders.tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def changelist_pks(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


# --- pages load -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url_name", ["admin:index", "admin:catalog_book_changelist", "admin:orders_order_changelist"]
)
def test_admin_pages_load(admin_client, url_name):
    order = OrderFactory()
    WebhookEventFactory(order=order)
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200


def test_book_changelist_and_change_page(admin_client):
    book = BookFactory(title="The Art of Doing Science and Engineering")
    response = admin_client.get(reverse("admin:catalog_book_changelist"))
    assert response.status_code == 200
    assert book.title in response.content.decode()

    response = admin_client.get(reverse("admin:catalog_book_change", args=[book.pk]))
    assert response.status_code == 200
    assert response.context["original"] == book


def test_book_add_page_loads(admin_client):
    assert admin_client.get(reverse("admin:catalog_book_add")).status_code == 200


def test_order_changelist_shows_the_columns_staff_need(admin_client):
    order = OrderFactory(email="reader@example.com", total_amount=2500, payment_intent_id="pi_3Columns")
    response = admin_client.get(reverse("admin:orders_order_changelist"))
    page = response.content.decode()
    for text in [order.number, "reader@example.com", "$25.00", "pi_3Columns", "Pending"]:
        assert text in page


def test_order_change_page_shows_items_history_events_and_stripe_link(admin_client):
    book = BookFactory(title="Working in Public", price_amount=2800)
    order = order_create(lines=[(book, 1)], email="reader@example.com")
    Order.objects.filter(pk=order.pk).update(payment_intent_id="pi_3History")
    order.refresh_from_db()
    order_mark_paid(order=order, amount_received=2800, cause="evt_history_paid")
    WebhookEventFactory(order=order, stripe_event_id="evt_history_paid")

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert order.number in page
    assert "Working in Public" in page
    assert "$28.00" in page
    assert "evt_history_paid" in page  # status history cause and webhook event inline
    assert "https://dashboard.stripe.com/" in page and "pi_3History" in page


@pytest.mark.parametrize("api_base", ["http://127.0.0.1:8420", "http://localhost:8420"])
def test_against_an_emulator_the_order_page_has_no_stripe_dashboard_link(admin_client, settings, api_base):
    settings.STRIPE_API_BASE = api_base
    order = OrderFactory(payment_intent_id="pi_3Offline")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "pi_3Offline" in page
    assert "dashboard.stripe.com" not in page and "Stripe dashboard" not in page


def test_webhook_event_changelist_and_change_page(admin_client):
    event = WebhookEventFactory(order=OrderFactory(), stripe_event_id="evt_admin_page")
    response = admin_client.get(reverse("admin:payments_webhookevent_changelist"))
    assert response.status_code == 200
    assert "evt_admin_page" in response.content.decode()

    response = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200
    assert "evt_admin_page" in response.content.decode()


def test_webhook_event_without_order_loads(admin_client):
    event = WebhookEventFactory(order=None, type="customer.created", outcome=WebhookEvent.Outcome.IGNORED)
    response = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk]))
    assert response.status_code == 200


# --- finding orders ---------------------------------------------------------------------


@pytest.fixture
def three_orders(db):
    return [
        OrderFactory(email="ada@example.com", payment_intent_id="pi_3AAAAAAAAAAAAAAA"),
        OrderFactory(email="grace@example.com", payment_intent_id="pi_3BBBBBBBBBBBBBBB", status="paid"),
        OrderFactory(email="linus@example.org", payment_intent_id=None, status="failed"),
    ]


@pytest.mark.parametrize(
    "query",
    [
        lambda order: order.number,
        lambda order: order.number.lower(),
        lambda order: order.email,
        lambda order: "grace@",
        lambda order: order.payment_intent_id,
    ],
    ids=["number", "number-lowercase", "email", "email-part", "payment-intent"],
)
def test_order_search(admin_client, three_orders, query):
    target = three_orders[1]
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": query(target)})
    assert response.status_code == 200
    assert changelist_pks(response) == {target.pk}


def test_order_search_without_match(admin_client, three_orders):
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": "nobody@nowhere"})
    assert changelist_pks(response) == set()


@pytest.mark.parametrize(("status", "index"), [("pending", 0), ("paid", 1), ("failed", 2)])
def test_order_status_filter(admin_client, three_orders, status, index):
    response = admin_client.get(reverse("admin:orders_order_changelist"), {"status__exact": status})
    assert response.status_code == 200
    assert changelist_pks(response) == {three_orders[index].pk}


def test_order_changelist_query_count_does_not_grow(admin_client):
    url = reverse("admin:orders_order_changelist")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    for order in OrderFactory.create_batch(5):
        WebhookEventFactory(order=order)
    few = count_queries()

    for order in OrderFactory.create_batch(35, status=OrderStatus.PAID):
        WebhookEventFactory(order=order)
    many = count_queries()

    assert Order.objects.count() == 40
    assert many == few


def test_webhook_event_changelist_query_count_does_not_grow(admin_client):
    url = reverse("admin:payments_webhookevent_changelist")
    for order in OrderFactory.create_batch(3):
        WebhookEventFactory(order=order)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for order in OrderFactory.create_batch(30):
        WebhookEventFactory(order=order)
    with CaptureQueriesContext(connection) as many:
        admin_client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- orders are money records ---------------------------------------------------------


def test_orders_cannot_be_added(admin_client):
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.post(reverse("admin:orders_order_add"), {"email": "x@example.com"}).status_code == 403
    assert Order.objects.count() == 0


def test_orders_cannot_be_deleted(admin_client):
    order = OrderFactory()
    url = reverse("admin:orders_order_delete", args=[order.pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert Order.objects.filter(pk=order.pk).exists()


def test_order_money_and_status_are_read_only(admin_client):
    order = OrderFactory(total_amount=2300, status=OrderStatus.PENDING)
    response = admin_client.post(
        reverse("admin:orders_order_change", args=[order.pk]),
        {
            "status": "paid",
            "fulfilment_status": "delivered",
            "dispute_status": "lost",
            "total_amount": "1",
            "amount_refunded": "2300",
            "email": "attacker@example.com",
            "needs_review": "on",
            "review_reason": "Checked by phone",
            **_empty_inline_management_forms(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    order.refresh_from_db()
    assert (order.status, order.total_amount, order.amount_refunded) == ("pending", 2300, 0)
    assert (order.fulfilment_status, order.dispute_status) == ("unfulfilled", "")
    assert order.email != "attacker@example.com"
    assert (order.needs_review, order.review_reason) == (True, "Checked by phone")


def _empty_inline_management_forms() -> dict:
    data = {}
    for prefix in ["items", "status_changes", "fulfilment_changes", "refunds", "disputes", "webhook_events"]:
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_webhook_events_are_read_only(admin_client):
    event = WebhookEventFactory(order=OrderFactory())
    assert admin_client.get(reverse("admin:payments_webhookevent_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:payments_webhookevent_change", args=[event.pk]), {"outcome": "failed"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.outcome == WebhookEvent.Outcome.PROCESSED


# --- book list editing ----------------------------------------------------------------------


def _changelist_edit(admin_client, books, rows):
    data = {
        "form-TOTAL_FORMS": str(len(books)),
        "form-INITIAL_FORMS": str(len(books)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, (book, (price, active)) in enumerate(zip(books, rows, strict=True)):
        data[f"form-{i}-id"] = str(book.pk)
        data[f"form-{i}-price_amount"] = price
        if active:
            data[f"form-{i}-is_active"] = "on"
    return admin_client.post(reverse("admin:catalog_book_changelist"), data)


def test_book_price_and_active_are_editable_in_the_list(admin_client):
    # The changelist orders by title: the formset rows follow that order.
    first = BookFactory(title="A Book", price_amount=2300, is_active=True)
    second = BookFactory(title="B Book", price_amount=2500, is_active=True)

    response = _changelist_edit(admin_client, [first, second], [("27.00", True), ("25", False)])

    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.price_amount, first.is_active) == (2700, True)
    assert (second.price_amount, second.is_active) == (2500, False)


def test_book_list_edit_refuses_a_price_below_the_minimum(admin_client):
    book = BookFactory(title="A Book", price_amount=2300)

    response = _changelist_edit(admin_client, [book], [("0.10", True)])

    assert response.status_code == 200  # the list comes back with the error
    assert response.context["cl"].formset.errors[0]["price_amount"]
    book.refresh_from_db()
    assert book.price_amount == 2300


def test_book_search(admin_client):
    hamming = BookFactory(title="The Art of Doing Science and Engineering", author="Richard Hamming")
    BookFactory(title="Working in Public", author="Nadia Eghbal")
    response = admin_client.get(reverse("admin:catalog_book_changelist"), {"q": "hamming"})
    assert changelist_pks(response) == {hamming.pk}


# --- who may enter -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        lambda: reverse("admin:index"),
        lambda: reverse("admin:orders_order_changelist"),
        lambda: reverse("admin:catalog_book_changelist"),
        lambda: reverse("admin:payments_webhookevent_changelist"),
    ],
    ids=["index", "orders", "books", "webhook-events"],
)
def test_anonymous_users_are_sent_to_login(client, url):
    target = url()
    response = client.get(target)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert "next=" in response["Location"]


def test_non_staff_users_cannot_enter(client, django_user_model):
    user = django_user_model.objects.create_user("shopper", password="a-long-password-123")
    client.force_login(user)
    response = client.get(reverse("admin:orders_order_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_book_changelist_is_ordered_by_title():
    # Guard for the list-edit tests above: they count on the default ordering by title.
    assert Book._meta.ordering == ["title"]


# --- book prices in the currency's units (issue 9, item 18) ----------------------------------


def test_book_list_shows_prices_in_dollars(admin_client):
    BookFactory(title="A Book", price_amount=2300)
    response = admin_client.get(reverse("admin:catalog_book_changelist"))
    form = response.context["cl"].formset.forms[0]
    assert 'value="23.00"' in str(form["price_amount"])
    assert "minor units" not in response.content.decode()


def test_book_list_refuses_cents_typed_as_decimals(admin_client):
    book = BookFactory(title="A Book", price_amount=2300)
    response = _changelist_edit(admin_client, [book], [("23.005", True)])
    assert response.status_code == 200
    assert response.context["cl"].formset.errors[0]["price_amount"]
    book.refresh_from_db()
    assert book.price_amount == 2300


def _book_change_data(book, **fields) -> dict:
    data = {
        "title": book.title,
        "author": book.author,
        "slug": book.slug,
        "description": book.description,
        "cover": "",
        "currency": book.currency,
        "is_active": "on",
        "stock": book.stock,
    }
    return {**data, **fields}


def test_book_change_page_takes_dollars(admin_client):
    book = BookFactory(price_amount=2300)
    url = reverse("admin:catalog_book_change", args=[book.pk])
    assert 'value="23.00"' in admin_client.get(url).content.decode()

    response = admin_client.post(url, _book_change_data(book, price_amount="24.50"))

    assert response.status_code == 302, response.content.decode()[:2000]
    book.refresh_from_db()
    assert book.price_amount == 2450


def test_book_change_page_respects_zero_decimal_currencies(admin_client):
    book = BookFactory(price_amount=2300)
    url = reverse("admin:catalog_book_change", args=[book.pk])

    refused = admin_client.post(url, _book_change_data(book, price_amount="3000.50", currency="jpy"))
    assert refused.status_code == 200
    assert "JPY amounts have no decimals" in refused.content.decode()

    response = admin_client.post(url, _book_change_data(book, price_amount="3000", currency="jpy"))
    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.price_amount, book.currency) == (3000, "jpy")
    assert 'value="3000"' in admin_client.get(url).content.decode()


def test_the_currency_is_a_choice_shown_as_its_code_in_capitals(admin_client):
    book = BookFactory(currency="usd")
    page = admin_client.get(reverse("admin:catalog_book_change", args=[book.pk])).content.decode()
    assert '<select name="currency"' in page
    assert '<option value="usd" selected>USD</option>' in page and '<option value="eur">EUR</option>' in page
    assert 'for="id_price_amount">Price:</label>' in page  # labels start with a capital

    refused = admin_client.post(
        reverse("admin:catalog_book_change", args=[book.pk]),
        _book_change_data(book, price_amount="23", currency="xyz"),
    )
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()

    listing = admin_client.get(reverse("admin:catalog_book_changelist")).content.decode()
    assert '<td class="field-currency_code">USD</td>' in listing
    order = OrderFactory(currency="eur")
    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert '<div class="readonly">EUR</div>' in page


def test_a_book_in_a_currency_off_the_list_keeps_it(admin_client):
    book = BookFactory(currency="chf", price_amount=2300)
    url = reverse("admin:catalog_book_change", args=[book.pk])
    assert '<option value="chf" selected>CHF</option>' in admin_client.get(url).content.decode()
    response = admin_client.post(url, _book_change_data(book, price_amount="24.00"))
    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.currency, book.price_amount) == ("chf", 2400)


# --- order search by book (item 18) ---------------------------------------------------------


@pytest.mark.parametrize("query", ["doing science", "hamming"], ids=["title", "author"])
def test_order_search_matches_book_title_and_author(admin_client, query):
    hamming = BookFactory(title="The Art of Doing Science and Engineering", author="Richard Hamming")
    other = BookFactory(title="Working in Public", author="Nadia Eghbal")
    wanted = order_create(lines=[(hamming, 1)], email="a@example.com")
    order_create(lines=[(hamming, 1)], email="b@example.com")  # two orders of the same book: both found once
    order_create(lines=[(other, 1)], email="c@example.com")

    response = admin_client.get(reverse("admin:orders_order_changelist"), {"q": query})

    found = changelist_pks(response)
    assert wanted.pk in found and len(found) == 2
    assert len(response.context["cl"].result_list) == 2  # no duplicate rows


# --- order page details (item 18) -----------------------------------------------------------


def test_status_history_and_events_show_times_with_seconds(admin_client):
    order = OrderFactory(payment_intent_id="pi_3Seconds")
    order_mark_paid(order=order, amount_received=order.total_amount, cause="evt_seconds")
    WebhookEventFactory(order=order)
    change = order.status_changes.get()
    moment = timezone.localtime(change.created_at)
    expected = f"{moment.day} {moment:%B %Y, %H:%M:%S}"  # the dates' one format, with seconds

    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert expected in page


def test_refunds_table_on_the_order_page_labels_the_amount(admin_client):
    order = OrderFactory(status=OrderStatus.PAID, payment_intent_id="pi_3Refunded", amount_received=2300)
    RefundFactory(order=order, amount=500, status=RefundStatus.SUCCEEDED, stripe_refund_id="re_1")

    page = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Amount display" not in page
    assert re.search(r'<th scope="col" class="column-amount_display">\s*Amount\s*</th>', page)
    assert "$5.00" in page


def test_payment_fieldset_is_found_by_name_whatever_the_order():
    from payments.admin import PaymentOrderAdmin, fieldsets_with_fields

    payment = dict(PaymentOrderAdmin.fieldsets)["Payment"]["fields"]
    assert payment[:2] == ["payment_intent_id", "stripe_link"]
    base = [("Payment", {"fields": ["payment_intent_id"]}), (None, {"fields": ["number"]})]
    moved = fieldsets_with_fields(base, name="Payment", after="payment_intent_id", fields=["stripe_link"])
    assert moved == [
        ("Payment", {"fields": ["payment_intent_id", "stripe_link"]}),
        (None, {"fields": ["number"]}),
    ]
    with pytest.raises(ImproperlyConfigured):
        fieldsets_with_fields(base[1:], name="Payment", after="payment_intent_id", fields=["stripe_link"])


def test_every_order_field_is_still_on_the_order_page():
    from payments.admin import PaymentOrderAdmin
    from shop.orders.admin import OrderAdmin

    def names(fieldsets) -> list[str]:
        return [name for _, options in fieldsets for name in options["fields"]]

    assert set(names(OrderAdmin.fieldsets)) <= set(names(PaymentOrderAdmin.fieldsets))
    assert len(names(PaymentOrderAdmin.fieldsets)) == len(set(names(PaymentOrderAdmin.fieldsets)))


# --- webhook events: read-only record, failed-event page, replay (items 16, 17) -----------------


def test_webhook_events_cannot_be_deleted(admin_client):
    event = WebhookEventFactory()
    url = reverse("admin:payments_webhookevent_delete", args=[event.pk])
    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403

    changelist = admin_client.get(reverse("admin:payments_webhookevent_changelist"))
    assert "delete_selected" not in changelist.content.decode()
    admin_client.post(
        reverse("admin:payments_webhookevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    change = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk])).content.decode()
    assert "deletelink" not in change
    assert WebhookEvent.objects.filter(pk=event.pk).exists()


def failed_event(order: Order) -> WebhookEvent:
    """A payment_intent.succeeded whose processing failed: its link to the order was rolled back."""
    payload = payment_intent_event("payment_intent.succeeded", order)
    return WebhookEventFactory(
        order=None,
        stripe_event_id=payload["id"],
        payload=payload,
        payment_intent_id=order.payment_intent_id,
        outcome=WebhookEvent.Outcome.FAILED,
        attempts=1,
        error="Traceback (most recent call last):\n  File " + "x" * 400 + "\nOperationalError: boom",
    )


def test_failed_event_page_wraps_the_traceback_and_links_the_order_by_payment_intent(admin_client):
    order = OrderFactory(payment_intent_id="pi_3FailedEvent")
    event = failed_event(order)

    page = admin_client.get(reverse("admin:payments_webhookevent_change", args=[event.pk])).content.decode()

    assert '<pre class="webhook-error">Traceback' in page
    order_url = reverse("admin:orders_order_change", args=[order.pk])
    assert f'<a href="{order_url}">{order.number}</a>' in page
    css = (Path(__file__).resolve().parents[1] / "static/css/admin.css").read_text()
    assert re.search(r"\.webhook-error[^{]*\{[^}]*white-space: pre-wrap", css)


def staff_user(django_user_model, *permissions: str):
    user = django_user_model.objects.create_user("staffer", password="a-long-password-123", is_staff=True)
    for codename in ["view_webhookevent", "view_order", *permissions]:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_replay_button_only_for_staff_allowed_to_replay(client, django_user_model):
    event = failed_event(OrderFactory(payment_intent_id="pi_3ReplayButton"))
    url = reverse("admin:payments_webhookevent_change", args=[event.pk])
    replay_url = reverse("admin:payments_webhookevent_replay", args=[event.pk])
    user = staff_user(django_user_model)
    client.force_login(user)

    assert replay_url not in client.get(url).content.decode()
    assert client.post(replay_url).status_code == 403
    event.refresh_from_db()
    assert (event.outcome, event.attempts) == (WebhookEvent.Outcome.FAILED, 1)

    user.user_permissions.add(Permission.objects.get(codename="replay_webhookevent"))
    client.force_login(django_user_model.objects.get(pk=user.pk))  # fresh permission cache
    assert replay_url in client.get(url).content.decode()


def test_replay_processes_the_failed_event_and_pays_the_order(admin_client):
    order = OrderFactory(payment_intent_id="pi_3ReplayPays", total_amount=2300)
    event = failed_event(order)
    replay_url = reverse("admin:payments_webhookevent_replay", args=[event.pk])

    assert admin_client.get(replay_url).status_code == 405  # a button, never a link
    response = admin_client.post(replay_url, follow=True)

    assert response.status_code == 200
    event.refresh_from_db()
    order.refresh_from_db()
    assert (event.outcome, event.order_id, event.attempts) == ("processed", order.pk, 2)
    assert order.status == OrderStatus.PAID
    assert f"Event {event.stripe_event_id}: replayed: processed." in response.content.decode()
    # Done: no second replay (the button is gone and a stale POST changes nothing).
    assert replay_url not in response.content.decode()
    again = admin_client.post(replay_url, follow=True)
    assert "did not fail: there is nothing to replay" in again.content.decode()
    event.refresh_from_db()
    assert event.attempts == 2


def test_order_page_saves_as_a_browser_submits_it(admin_client):
    """Read-only inline tables still carry what the formsets need (management form, row ids)."""
    order = OrderFactory(payment_intent_id="pi_3SaveAsBrowser")
    order_mark_paid(order=order, amount_received=order.total_amount, cause="evt_save")
    WebhookEventFactory(order=order)
    RefundFactory(order=order, amount=100, status=RefundStatus.SUCCEEDED, stripe_refund_id="re_save")
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = admin_client.get(url).content.decode()
    form = page[page.index('id="order_form"') :]
    form = form[: form.index("</form>")]
    data = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="([^"]+)"', tag)
        if name and (not kind or kind.group(1) not in ("checkbox", "submit")):
            data[name.group(1)] = value.group(1) if value else ""
    assert data["status_changes-INITIAL_FORMS"] == "1" and "status_changes-0-id" in data
    assert data["webhook_events-INITIAL_FORMS"] == "1" and "webhook_events-0-id" in data
    data.update({"needs_review": "on", "review_reason": "Customer called", "_save": "Save"})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    order.refresh_from_db()
    assert (order.needs_review, order.review_reason) == (True, "Customer called")
