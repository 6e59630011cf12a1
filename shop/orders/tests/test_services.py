import itertools
import threading
import time

import pytest
from django.db import transaction

from shop.catalog.tests.factories import BookFactory
from shop.orders.models import Order, OrderItem, OrderStatus, OrderStatusChange
from shop.orders.services import (
    ALLOWED_TRANSITIONS,
    OrderTransitionNotAllowed,
    order_attach_payment_intent,
    order_can_transition,
    order_create,
    order_flag_for_review,
    order_mark_canceled,
    order_mark_failed,
    order_mark_paid,
    order_mark_processing,
    order_record_refunded_total,
    order_transition,
    order_update_email,
)
from shop.orders.tests.factories import OrderFactory
from tests.postgres import postgres_only, run_at_once

STATUSES = list(OrderStatus.values)

# Every move between two different statuses, written out by hand: the rules
# as the shop means them, so a change to ALLOWED_TRANSITIONS must change this too.
EXPECTED_MOVES = [
    # from pending: anything the payment can do
    ("pending", "processing", True),
    ("pending", "paid", True),
    ("pending", "failed", True),
    ("pending", "canceled", True),
    ("pending", "partially_refunded", False),
    ("pending", "refunded", False),
    # from processing: it settles, never back to pending
    ("processing", "pending", False),
    ("processing", "paid", True),
    ("processing", "failed", True),
    ("processing", "canceled", True),
    ("processing", "partially_refunded", False),
    ("processing", "refunded", False),
    # from failed: the shopper may try again
    ("failed", "pending", False),
    ("failed", "processing", True),
    ("failed", "paid", True),
    ("failed", "canceled", True),
    ("failed", "partially_refunded", False),
    ("failed", "refunded", False),
    # from paid: only refunds
    ("paid", "pending", False),
    ("paid", "processing", False),
    ("paid", "failed", False),
    ("paid", "canceled", False),
    ("paid", "partially_refunded", True),
    ("paid", "refunded", True),
    # from partially refunded: only the rest of the refund
    ("partially_refunded", "pending", False),
    ("partially_refunded", "processing", False),
    ("partially_refunded", "paid", False),
    ("partially_refunded", "failed", False),
    ("partially_refunded", "canceled", False),
    ("partially_refunded", "refunded", True),
    # refunded and canceled are final
    *[("refunded", to, False) for to in STATUSES if to != "refunded"],
    *[("canceled", to, False) for to in STATUSES if to != "canceled"],
]
ALLOWED = [(a, b) for a, b, allowed in EXPECTED_MOVES if allowed]
FORBIDDEN = [(a, b) for a, b, allowed in EXPECTED_MOVES if not allowed]


def audit_rows(order: Order) -> list[tuple[str, str, str]]:
    return list(
        OrderStatusChange.objects.filter(order=order)
        .order_by("id")
        .values_list("from_status", "to_status", "cause")
    )


# --- the rules themselves ------------------------------------------------------


def test_every_status_has_rules():
    assert set(ALLOWED_TRANSITIONS) == set(STATUSES)
    for targets in ALLOWED_TRANSITIONS.values():
        assert targets <= set(STATUSES)


def test_the_expected_table_covers_every_pair_once():
    pairs = [(a, b) for a, b, _ in EXPECTED_MOVES]
    assert sorted(pairs) == sorted((a, b) for a, b in itertools.product(STATUSES, STATUSES) if a != b)
    assert (len(ALLOWED), len(FORBIDDEN)) == (13, 29)


@pytest.mark.parametrize(
    "from_status",
    [OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED, OrderStatus.CANCELED],
    ids=str,
)
@pytest.mark.parametrize(
    "to_status", [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED], ids=str
)
def test_no_way_back_from_paid_or_final_states(from_status, to_status):
    assert not order_can_transition(from_status=from_status, to_status=to_status)


@pytest.mark.parametrize("from_status", [OrderStatus.REFUNDED, OrderStatus.CANCELED], ids=str)
def test_refunded_and_canceled_are_final(from_status):
    assert not any(order_can_transition(from_status=from_status, to_status=to) for to in STATUSES)


@pytest.mark.parametrize(
    ("from_status", "to_status", "allowed"), EXPECTED_MOVES, ids=[f"{a}->{b}" for a, b, _ in EXPECTED_MOVES]
)
def test_order_can_transition_matches_the_expected_table(from_status, to_status, allowed):
    assert order_can_transition(from_status=from_status, to_status=to_status) is allowed


def test_expected_moves_are_allowed():
    # The shop's flows, spelled out: if one of these disappears the checkout breaks.
    for from_status, to_status in [
        (OrderStatus.PENDING, OrderStatus.PROCESSING),
        (OrderStatus.PENDING, OrderStatus.PAID),
        (OrderStatus.PENDING, OrderStatus.FAILED),
        (OrderStatus.FAILED, OrderStatus.PAID),
        (OrderStatus.FAILED, OrderStatus.PROCESSING),
        (OrderStatus.PROCESSING, OrderStatus.PAID),
        (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED),
        (OrderStatus.PAID, OrderStatus.REFUNDED),
        (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED),
    ]:
        assert order_can_transition(from_status=from_status, to_status=to_status), (from_status, to_status)


# --- order_create -----------------------------------------------------------------


@pytest.mark.django_db
def test_order_create_snapshots_book_and_writes_first_audit_row():
    book = BookFactory(title="Working in Public", price_amount=2800, currency="usd")

    order = order_create(lines=[(book, 2)], email="reader@example.com", checkout_key="sess:abc")

    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.email == "reader@example.com"
    assert order.currency == "usd"
    assert order.total_amount == 5600  # free shipping from 50.00
    assert order.shipping_amount == 0
    assert order.checkout_key == "sess:abc"
    assert order.number.startswith("SP-")
    assert order.paid_at is None
    assert order.amount_received == 0 and order.amount_refunded == 0

    (item,) = order.items.all()
    assert (item.book_id, item.title, item.unit_amount, item.quantity) == (
        book.pk,
        "Working in Public",
        2800,
        2,
    )
    assert audit_rows(order) == [("", OrderStatus.PENDING, "checkout")]


@pytest.mark.django_db
def test_order_lines_keep_the_price_and_title_at_order_time():
    book = BookFactory(title="First Edition", price_amount=2300)
    order = order_create(lines=[(book, 1)], email="reader@example.com")

    book.title = "Second Edition"
    book.price_amount = 3100
    book.save()

    item = OrderItem.objects.get(order=order)
    assert (item.title, item.unit_amount) == ("First Edition", 2300)
    order.refresh_from_db()
    assert order.total_amount == 2300 + 499  # with flat shipping


@pytest.mark.django_db
def test_order_create_uses_the_book_currency():
    order = order_create(lines=[(BookFactory(price_amount=1500, currency="eur"), 1)], email="a@example.com")
    assert (order.currency, order.total_amount, order.shipping_amount) == ("eur", 1999, 499)


# --- order_transition over the whole matrix --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED, ids="{0[0]}->{0[1]}".format)
def test_allowed_transition_changes_status_and_writes_one_audit_row(from_status, to_status):
    order = OrderFactory(status=from_status)

    result = order_transition(order=order, to_status=to_status, cause="evt_allowed")

    assert result.status == to_status
    order.refresh_from_db()
    assert order.status == to_status
    assert audit_rows(order) == [(from_status, to_status, "evt_allowed")]


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), FORBIDDEN, ids="{0[0]}->{0[1]}".format)
def test_forbidden_transition_changes_nothing(from_status, to_status):
    order = OrderFactory(status=from_status, failure_message="")
    before = Order.objects.values().get(pk=order.pk)

    with pytest.raises(OrderTransitionNotAllowed) as refused:
        order_transition(
            order=order, to_status=to_status, cause="evt_forbidden", failure_message="must not be saved"
        )

    assert (refused.value.from_status, refused.value.to_status) == (from_status, to_status)
    assert refused.value.order.status == from_status
    assert Order.objects.values().get(pk=order.pk) == before
    assert audit_rows(order) == []


@pytest.mark.django_db
@pytest.mark.parametrize("status", STATUSES)
def test_staying_in_the_same_status_writes_no_audit_row(status):
    order = OrderFactory(status=status)
    order_transition(order=order, to_status=status, cause="evt_same")
    order.refresh_from_db()
    assert order.status == status
    assert audit_rows(order) == []


@pytest.mark.django_db
def test_transition_uses_the_database_row_not_a_stale_instance():
    order = OrderFactory(status=OrderStatus.PENDING)
    stale = Order.objects.get(pk=order.pk)
    order_mark_paid(order=order, amount_received=2300, cause="evt_paid")

    with pytest.raises(OrderTransitionNotAllowed) as refused:
        order_mark_failed(order=stale, message="Card declined", cause="evt_late_failure")

    assert (refused.value.from_status, refused.value.order.status) == (OrderStatus.PAID, OrderStatus.PAID)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.failure_message == ""
    assert [row[1] for row in audit_rows(order)] == [OrderStatus.PAID]


@pytest.mark.django_db
def test_cause_is_truncated_to_the_column():
    order = OrderFactory(status=OrderStatus.PENDING)
    order_mark_processing(order=order, cause="x" * 400)
    assert audit_rows(order)[0][2] == "x" * 255


# --- a paid order never goes back -----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "paid_status", [OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED], ids=str
)
def test_paid_order_never_goes_back(paid_status):
    order = OrderFactory(status=paid_status, amount_received=2300)

    late_moves = [
        lambda: order_mark_processing(order=order, cause="evt_late_processing"),
        lambda: order_mark_failed(order=order, message="Your card was declined.", cause="evt_late_failure"),
        lambda: order_transition(order=order, to_status=OrderStatus.PENDING, cause="evt_weird"),
        lambda: order_mark_canceled(order=order, cause="evt_late_cancel"),
    ]
    for move in late_moves:
        with pytest.raises(OrderTransitionNotAllowed):
            move()

    order.refresh_from_db()
    assert order.status == paid_status
    assert order.failure_message == ""
    assert audit_rows(order) == []


# --- order_mark_paid / failed / canceled ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "from_status", [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED], ids=str
)
def test_order_mark_paid_sets_paid_at_and_amount(from_status):
    order = OrderFactory(status=from_status, failure_message="Earlier attempt declined")

    order_mark_paid(order=order, amount_received=2300, cause="evt_succeeded")

    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert order.amount_received == 2300
    assert order.paid_at is not None
    assert order.failure_message == ""
    assert audit_rows(order) == [(from_status, OrderStatus.PAID, "evt_succeeded")]


@pytest.mark.django_db
def test_order_mark_paid_twice_is_a_no_op():
    order = OrderFactory(status=OrderStatus.PENDING)
    order_mark_paid(order=order, amount_received=2300, cause="evt_first")
    order.refresh_from_db()
    first_paid_at = order.paid_at

    again = order_mark_paid(order=order, amount_received=9999, cause="evt_duplicate")

    assert again.status == OrderStatus.PAID
    order.refresh_from_db()
    assert order.paid_at == first_paid_at
    assert order.amount_received == 2300
    assert audit_rows(order) == [(OrderStatus.PENDING, OrderStatus.PAID, "evt_first")]


@pytest.mark.django_db
def test_order_mark_paid_on_a_canceled_order_changes_nothing():
    order = OrderFactory(status=OrderStatus.CANCELED)
    with pytest.raises(OrderTransitionNotAllowed):
        order_mark_paid(order=order, amount_received=2300, cause="evt_late_success")
    order.refresh_from_db()
    assert (order.status, order.paid_at, order.amount_received) == (OrderStatus.CANCELED, None, 0)
    assert audit_rows(order) == []


@pytest.mark.django_db
@pytest.mark.parametrize("from_status", [OrderStatus.PENDING, OrderStatus.PROCESSING], ids=str)
def test_order_mark_failed_keeps_the_message(from_status):
    order = OrderFactory(status=from_status)

    order_mark_failed(order=order, message="Your card has insufficient funds.", cause="evt_failed")

    order.refresh_from_db()
    assert order.status == OrderStatus.FAILED
    assert order.failure_message == "Your card has insufficient funds."
    assert audit_rows(order) == [(from_status, OrderStatus.FAILED, "evt_failed")]


@pytest.mark.django_db
def test_order_failed_twice_updates_the_message_without_a_second_audit_row():
    order = OrderFactory(status=OrderStatus.PENDING)
    order_mark_failed(order=order, message="Declined", cause="evt_1")
    order_mark_failed(order=order, message="Expired card", cause="evt_2")
    order.refresh_from_db()
    assert order.failure_message == "Expired card"
    assert audit_rows(order) == [(OrderStatus.PENDING, OrderStatus.FAILED, "evt_1")]


@pytest.mark.django_db
def test_failed_order_can_be_retried_and_paid():
    order = OrderFactory(status=OrderStatus.PENDING)
    order_mark_failed(order=order, message="Declined", cause="evt_1")
    order_mark_processing(order=order, cause="evt_2")
    order_mark_paid(order=order, amount_received=2300, cause="evt_3")
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert [(a, b) for a, b, _ in audit_rows(order)] == [
        (OrderStatus.PENDING, OrderStatus.FAILED),
        (OrderStatus.FAILED, OrderStatus.PROCESSING),
        (OrderStatus.PROCESSING, OrderStatus.PAID),
    ]


@pytest.mark.django_db
def test_order_mark_canceled():
    order = OrderFactory(status=OrderStatus.PENDING)
    order_mark_canceled(order=order, cause="staff:alice")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert audit_rows(order) == [(OrderStatus.PENDING, OrderStatus.CANCELED, "staff:alice")]


# --- refunds ----------------------------------------------------------------------


@pytest.fixture
def paid_order(db):
    order = OrderFactory(status=OrderStatus.PENDING, total_amount=2300)
    return order_mark_paid(order=order, amount_received=2300, cause="evt_paid")


def refund_rows(order):
    return [
        row for row in audit_rows(order) if row[1] in (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
    ]


def test_partial_then_full_refund(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=800, cause="re_1")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 800)

    order_record_refunded_total(order=paid_order, amount_refunded=2300, cause="re_2")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.REFUNDED, 2300)
    assert refund_rows(paid_order) == [
        (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, "re_1"),
        (OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED, "re_2"),
    ]


def test_two_partial_refunds_add_up_without_a_second_audit_row(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=500, cause="re_1")
    order_record_refunded_total(order=paid_order, amount_refunded=1200, cause="re_2")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1200)
    assert refund_rows(paid_order) == [(OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, "re_1")]


def test_same_refund_report_twice_counts_once(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=1000, cause="api_answer")
    order_record_refunded_total(order=paid_order, amount_refunded=1000, cause="evt_charge_refunded")
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 1000
    assert len(refund_rows(paid_order)) == 1


def test_refunded_total_never_decreases(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=1500, cause="re_new")
    order_record_refunded_total(order=paid_order, amount_refunded=700, cause="re_old_late")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PARTIALLY_REFUNDED, 1500)

    order_record_refunded_total(order=paid_order, amount_refunded=2300, cause="re_full")
    order_record_refunded_total(order=paid_order, amount_refunded=1500, cause="re_old_late_again")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


def test_refunded_total_is_capped_at_the_order_total(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=999_999, cause="re_too_much")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.REFUNDED, 2300)


def test_zero_refund_changes_nothing(paid_order):
    order_record_refunded_total(order=paid_order, amount_refunded=0, cause="re_zero")
    paid_order.refresh_from_db()
    assert (paid_order.status, paid_order.amount_refunded) == (OrderStatus.PAID, 0)
    assert refund_rows(paid_order) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.FAILED, OrderStatus.CANCELED], ids=str
)
def test_refund_on_an_unpaid_order_changes_nothing(status):
    order = OrderFactory(status=status)
    with pytest.raises(OrderTransitionNotAllowed):
        order_record_refunded_total(order=order, amount_refunded=2300, cause="re_x")
    order.refresh_from_db()
    assert (order.status, order.amount_refunded) == (status, 0)
    assert audit_rows(order) == []


# --- review flag, PaymentIntent --------------------------------------------------------


@pytest.mark.django_db
def test_flag_for_review_is_idempotent_for_the_same_reason():
    order = OrderFactory()

    order_flag_for_review(order=order, reason="Stripe charged 2500, order total is 2300", cause="evt_1")
    order_flag_for_review(order=order, reason="Stripe charged 2500, order total is 2300", cause="evt_1")

    order.refresh_from_db()
    assert order.needs_review is True
    assert order.review_reason == "Stripe charged 2500, order total is 2300"
    assert order.status == OrderStatus.PENDING
    assert audit_rows(order) == []


@pytest.mark.django_db
def test_flag_for_review_keeps_every_distinct_reason():
    order = OrderFactory()
    order_flag_for_review(order=order, reason="Amount mismatch", cause="evt_1")
    order_flag_for_review(order=order, reason="Currency mismatch", cause="evt_2")
    order.refresh_from_db()
    assert order.review_reason.splitlines() == ["Amount mismatch", "Currency mismatch"]


@pytest.mark.django_db
def test_attach_payment_intent():
    order = OrderFactory(payment_intent_id=None)
    order_attach_payment_intent(order=order, payment_intent_id="pi_3Abc")
    assert order.payment_intent_id == "pi_3Abc"
    assert Order.objects.get(pk=order.pk).payment_intent_id == "pi_3Abc"

    order_attach_payment_intent(order=order, payment_intent_id="pi_3Abc")  # the same again: fine
    with pytest.raises(ValueError, match="already paid through pi_3Abc"):
        order_attach_payment_intent(order=order, payment_intent_id="pi_other")
    assert Order.objects.get(pk=order.pk).payment_intent_id == "pi_3Abc"


@pytest.mark.django_db
def test_update_email_writes_an_audit_row_only_when_it_changes():
    order = OrderFactory(status=OrderStatus.PENDING, email="old@example.com")

    order_update_email(order=order, email="new@example.com", cause="checkout")
    order_update_email(order=order, email="new@example.com", cause="checkout")

    order.refresh_from_db()
    assert (order.email, order.status) == ("new@example.com", OrderStatus.PENDING)
    assert audit_rows(order) == [
        (OrderStatus.PENDING, OrderStatus.PENDING, "checkout: email changed from old@example.com")
    ]


# --- row locks (PostgreSQL) ----------------------------------------------------------------


def assert_audit_chain_matches(order: Order) -> None:
    """Audit rows form one unbroken chain of allowed moves ending at the order's status."""
    rows = audit_rows(order)
    assert rows[0][:2] == ("", OrderStatus.PENDING)
    for (_, previous_to, _), (from_status, to_status, _) in itertools.pairwise(rows):
        assert from_status == previous_to, rows
        assert order_can_transition(from_status=from_status, to_status=to_status), rows
    assert rows[-1][1] == order.status, rows


@postgres_only
def test_transition_waits_for_the_row_lock(transactional_db):
    """A late failure arriving while a payment commits must see the payment, not overwrite it."""
    order = order_create(lines=[(BookFactory(), 1)], email="race@example.com")
    paid_locked = threading.Event()
    waited = {}

    def pay_slowly():
        with transaction.atomic():
            order_mark_paid(order=Order.objects.get(pk=order.pk), amount_received=2300, cause="evt_paid")
            paid_locked.set()
            time.sleep(0.5)  # hold the row lock while the other thread arrives

    def fail_late():
        assert paid_locked.wait(5)
        started = time.monotonic()
        try:
            order_mark_failed(order=Order.objects.get(pk=order.pk), message="Declined", cause="evt_failed")
        finally:
            waited["seconds"] = time.monotonic() - started

    paid, failed = run_at_once(pay_slowly, fail_late)

    assert paid is None, paid
    assert isinstance(failed, OrderTransitionNotAllowed), failed  # it saw the payment
    assert waited["seconds"] >= 0.3, "the second transition did not wait for the row lock"
    order.refresh_from_db()
    assert (order.status, order.failure_message, order.amount_received) == (OrderStatus.PAID, "", 2300)
    assert audit_rows(order) == [
        ("", OrderStatus.PENDING, "checkout"),
        (OrderStatus.PENDING, OrderStatus.PAID, "evt_paid"),
    ]


@postgres_only
def test_concurrent_transitions_keep_order_and_audit_consistent(transactional_db):
    orders = [order_create(lines=[(BookFactory(), 1)], email=f"race{i}@example.com") for i in range(5)]
    unexpected = []

    for order in orders:
        results = run_at_once(
            lambda o=order: order_mark_processing(order=o, cause="evt_processing"),
            lambda o=order: order_mark_paid(order=o, amount_received=2300, cause="evt_paid"),
            lambda o=order: order_mark_failed(order=o, message="Declined", cause="evt_failed"),
            lambda o=order: order_mark_canceled(order=o, cause="evt_canceled"),
        )
        # A move refused because another one won is expected; anything else is not.
        unexpected += [
            r for r in results if isinstance(r, Exception) and not isinstance(r, OrderTransitionNotAllowed)
        ]

    assert not unexpected, unexpected
    for order in orders:
        order.refresh_from_db()
        assert order.status in (OrderStatus.PAID, OrderStatus.CANCELED)  # both are final for these moves
        assert_audit_chain_matches(order)
        if order.status == OrderStatus.PAID:
            assert order.paid_at is not None and order.amount_received == 2300
