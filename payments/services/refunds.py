"""Refunds: asked for by staff in the admin, or made on Stripe and learned from webhooks.

How much is refunded. An order's `amount_refunded` is what Stripe has agreed
to give back: refunds pending, requiring action or succeeded, as Stripe's own
`charge.amount_refunded` counts them. It only ever comes from cumulative
figures (the sum of the order's Refund rows Stripe has confirmed, or a
charge's `amount_refunded`) through `order_record_refunded_total`, which
keeps the larger. An API answer and any number of webhooks, in any order,
therefore cannot count a refund twice. What may still be refunded also holds
back requests Stripe has not answered yet, so staff cannot over-refund.

Once only. A request is keyed by the order, the number of refunds the order
had when staff opened the form, and the amount. The Refund row carrying that
key (unique) is written, with the order row locked, before Stripe is asked,
and the key is Stripe's idempotency key. A double click finds the row and does
not ask Stripe again; a form opened before someone else refunded is refused.

When Stripe fails. Refused (4xx): the row is marked failed with Stripe's
reason. Unreachable, 5xx or 429: the outcome is unknown, so the row stays
pending without a Stripe id ("not confirmed"), its amount held back, nothing
recorded as refunded. Submitting the same form again resends it with the same
key (Stripe cannot refund twice); `sync_payments` later finds it on Stripe or
marks it failed.

Locks are taken order first, then refund. `refund_send` holds only the refund
row while Stripe answers and updates the order after letting it go.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.money import format_money
from payments.exceptions import (
    PaymentError,
    PaymentProviderUnavailable,
    RefundFailed,
    RefundNotAllowed,
    RefundUnconfirmed,
)
from payments.models import Refund, RefundStatus
from payments.selectors import (
    COUNTED_STATUSES,
    REFUNDABLE_ORDER_STATUSES,
    refund_amounts,
    refund_remaining,
    refunds_count,
)
from payments.stripe_client import stripe_call
from shop.orders.models import Order
from shop.orders.selectors import order_get_for_update
from shop.orders.services import (
    OrderTransitionNotAllowed,
    order_flag_for_review,
    order_record_refunded_total,
)

logger = logging.getLogger(__name__)

# Statuses only move forward (late or duplicated webhooks never move them back).
STATUS_RANK = {
    RefundStatus.PENDING: 0,
    RefundStatus.REQUIRES_ACTION: 0,
    RefundStatus.SUCCEEDED: 1,
    RefundStatus.FAILED: 2,
    RefundStatus.CANCELED: 2,
}
OUTSIDE_REASON = "Refunded outside the shop (Stripe dashboard or API)."
UNCONFIRMED_NOTE = "Stripe did not answer; not confirmed yet."
NEVER_SENT_NOTE = "Stripe has no such refund: the request never reached it. Nothing was refunded."


def refund_key(*, order: Order, refund_count: int, amount: int) -> str:
    """The idempotency key of "refund `amount` after the order's first `refund_count` refunds"."""
    return f"order-{order.number}-{order.pk}-refund-{refund_count}-{amount}"


def refund_create(*, order: Order, amount: int, reason: str, user, refund_count: int | None = None) -> Refund:
    """Refund `amount` (minor units) of `order` on Stripe; returns the Refund Stripe accepted.

    `refund_count` is the number of refunds the order had when the staff
    member saw it (the form carries it); None means "as it is now".
    Raises RefundNotAllowed (nothing asked) or RefundFailed (Stripe refused,
    or could not be reached: see the module docstring).
    """
    refund = _refund_reserve(order=order, amount=amount, reason=reason, user=user, refund_count=refund_count)
    return refund_send(refund=refund)


def _refund_reserve(*, order: Order, amount: int, reason: str, user, refund_count: int | None) -> Refund:
    with transaction.atomic():
        locked = order_get_for_update(order_id=order.pk)
        current_count = refunds_count(order=locked)
        count = current_count if refund_count is None else refund_count
        key = refund_key(order=locked, refund_count=count, amount=amount)
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing  # the same request again (double click, resubmitted form)
        if count != current_count:
            raise RefundNotAllowed(
                f"Order {locked.number} was refunded by someone else since this page was opened. "
                "Check what is left to refund and try again."
            )
        _refund_validate(order=locked, amount=amount)
        try:
            with transaction.atomic():
                return Refund.objects.create(
                    order=locked,
                    amount=amount,
                    currency=locked.currency,
                    reason=reason.strip(),
                    created_by=user,
                    idempotency_key=key,
                )
        except IntegrityError:  # a concurrent duplicate wrote it first (no row locks on SQLite)
            return Refund.objects.get(idempotency_key=key)


def _refund_validate(*, order: Order, amount: int) -> None:
    if order.status not in REFUNDABLE_ORDER_STATUSES:
        raise RefundNotAllowed(
            f"Order {order.number} is {order.get_status_display().lower()}: only paid orders can be refunded."
        )
    if not order.payment_intent_id:
        raise RefundNotAllowed(f"Order {order.number} has no Stripe payment to refund.")
    remaining = refund_remaining(order=order)
    if remaining == 0:
        raise RefundNotAllowed(f"Order {order.number} has nothing left to refund.")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise RefundNotAllowed("Enter an amount greater than zero.")
    if amount > remaining:
        raise RefundNotAllowed(
            f"{format_money(amount, order.currency)} is more than the "
            f"{format_money(remaining, order.currency)} that can still be refunded on order {order.number}."
        )


def refund_send(*, refund: Refund) -> Refund:
    """Ask Stripe for a reserved refund (again, with the same key, if it was not confirmed)."""
    error: RefundFailed | None = None
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("order").get(pk=refund.pk)
        if locked.is_confirmed or locked.status != RefundStatus.PENDING:
            return _refund_result(locked)  # answered already (a double click waited for it)
        order = locked.order
        try:
            answer = stripe_call(
                "refund.create",
                lambda client: client.v1.refunds.create(
                    params={
                        "payment_intent": order.payment_intent_id,
                        "amount": locked.amount,
                        "metadata": {
                            "order_id": str(order.pk),
                            "order_number": order.number,
                            "reason": locked.reason[:500],
                            "refund_key": locked.idempotency_key,
                        },
                    },
                    options={"idempotency_key": locked.idempotency_key},
                ),
            )
        except PaymentProviderUnavailable:
            locked.failure_reason = UNCONFIRMED_NOTE
            locked.save(update_fields=["failure_reason", "updated_at"])
            error = RefundUnconfirmed(
                f"Stripe could not be reached, so the refund of {locked.amount_display} on order "
                f"{order.number} is not confirmed and nothing was recorded as refunded. Submit again "
                "to retry: the same idempotency key is sent, so the customer cannot be refunded twice."
            )
        except PaymentError as exc:
            detail = getattr(exc.__cause__, "user_message", None) or exc.message
            locked.status = RefundStatus.FAILED
            locked.failure_reason = detail
            locked.save(update_fields=["status", "failure_reason", "updated_at"])
            error = RefundFailed(f"Stripe refused the refund on order {order.number}: {detail}")
        else:
            _refund_row_apply(locked, answer)
            logger.info(
                "refund_created",
                extra={
                    "order": order.number,
                    "payment_intent": order.payment_intent_id,
                    "refund": locked.stripe_refund_id,
                    "amount": locked.amount,
                    "status": locked.status,
                },
            )
    if error is not None:
        raise error
    refund_order_totals_record(order=locked.order, cause=f"refund {locked.stripe_refund_id} (API answer)")
    return _refund_result(locked)


def _refund_result(refund: Refund) -> Refund:
    if refund.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
        raise RefundFailed(
            f"Stripe did not refund order {refund.order.number}: "
            f"{(refund.failure_reason or 'the refund is ' + refund.status).rstrip('.')}."
        )
    return refund


def _refund_row_apply(refund: Refund, answer: dict) -> None:
    """Save what Stripe says about `refund` (locked by the caller). Statuses only move forward."""
    refund.stripe_refund_id = answer["id"]
    status = answer.get("status") if answer.get("status") in STATUS_RANK else RefundStatus.PENDING
    if STATUS_RANK[status] >= STATUS_RANK[refund.status]:
        refund.status = status
        if status in (RefundStatus.FAILED, RefundStatus.CANCELED):
            refund.failure_reason = answer.get("failure_reason") or f"The refund was {status} on Stripe."
        elif refund.failure_reason == UNCONFIRMED_NOTE:
            refund.failure_reason = ""
    refund.save()


def refund_record_from_stripe(
    *, order: Order, refunds: list[dict], cause: str, charge_amount_refunded: int = 0
) -> Order:
    """Record refunds Stripe reports for `order` (webhooks, sync) and the order's new total.

    Refunds made outside the shop get a row of their own. `charge_amount_refunded`
    is the charge's cumulative figure when the report is a charge.
    """
    with transaction.atomic():
        locked = order_get_for_update(order_id=order.pk)
        for data in refunds:
            if (data.get("currency") or locked.currency).lower() != locked.currency:
                order_flag_for_review(
                    order=locked,
                    reason=f"Refund {data.get('id')} is in {data.get('currency')}; "
                    f"the order is in {locked.currency}.",
                    cause=cause,
                )
                continue
            _refund_row_record(order=locked, data=data, cause=cause)
        return refund_order_totals_record(
            order=locked, cause=cause, charge_amount_refunded=charge_amount_refunded
        )


def _refund_row_record(*, order: Order, data: dict, cause: str) -> Refund:
    metadata = data.get("metadata") or {}
    row = Refund.objects.select_for_update().filter(stripe_refund_id=data["id"]).first()
    if row is None and metadata.get("refund_key"):
        row = (
            Refund.objects.select_for_update()
            .filter(order=order, idempotency_key=metadata["refund_key"], stripe_refund_id__isnull=True)
            .first()
        )
    if row is None:
        row = Refund.objects.create(
            order=order,
            stripe_refund_id=data["id"],
            amount=int(data.get("amount") or 0),
            currency=order.currency,
            status=data.get("status") if data.get("status") in STATUS_RANK else RefundStatus.PENDING,
            reason=metadata.get("reason") or data.get("reason") or OUTSIDE_REASON,
            failure_reason=data.get("failure_reason") or "",
        )
        logger.info(
            "refund_recorded", extra={"order": order.number, "refund": row.stripe_refund_id, "cause": cause}
        )
        return row
    was_counted = row.is_confirmed and row.status in COUNTED_STATUSES
    _refund_row_apply(row, data)
    if was_counted and row.status not in COUNTED_STATUSES:
        # The order's total never goes down: tell staff it now overstates what was refunded.
        order_flag_for_review(
            order=order,
            reason=f"Refund {row.stripe_refund_id} of {row.amount_display} is {row.status} on Stripe "
            f"({row.failure_reason}); the amount refunded shown still includes it.",
            cause=cause,
        )
    return row


def refund_order_totals_record(*, order: Order, cause: str, charge_amount_refunded: int = 0) -> Order:
    """Set the order's amount refunded from the cumulative figures we know (see the docstring)."""
    with transaction.atomic():
        locked = order_get_for_update(order_id=order.pk)
        confirmed, _ = refund_amounts(order=locked)
        total = max(confirmed, charge_amount_refunded)
        if total <= locked.amount_refunded:
            return locked
        try:
            return order_record_refunded_total(order=locked, amount_refunded=total, cause=cause)
        except OrderTransitionNotAllowed as refused:
            # A refund on an order that was never paid here (canceled, say): it is on
            # record as a Refund row; the order's status is left as it is.
            return refused.order


def refund_refresh(*, refund: Refund) -> bool:
    """Ask Stripe about a refund still pending here (`sync_payments`). True if it changed.

    A confirmed refund is read back. One Stripe never confirmed is looked for
    among the payment's refunds by its key: found, it is recorded; not found,
    the request never reached Stripe and is marked failed (nothing was refunded).
    """
    order = refund.order
    before = (refund.status, refund.stripe_refund_id)
    if refund.is_confirmed:
        data = stripe_call(
            "refund.retrieve", lambda client: client.v1.refunds.retrieve(refund.stripe_refund_id)
        )
    else:
        listing = stripe_call(
            "refund.list",
            lambda client: client.v1.refunds.list(
                params={"payment_intent": order.payment_intent_id, "limit": 100}
            ),
        )
        data = next(
            (
                item
                for item in listing.get("data") or []
                if (item.get("metadata") or {}).get("refund_key") == refund.idempotency_key
            ),
            None,
        )
        if data is None:
            Refund.objects.filter(
                pk=refund.pk, status=RefundStatus.PENDING, stripe_refund_id__isnull=True
            ).update(
                status=RefundStatus.FAILED,
                failure_reason=NEVER_SENT_NOTE,
                updated_at=timezone.now(),
            )
            refund.refresh_from_db()
            return before != (refund.status, refund.stripe_refund_id)
    refund_record_from_stripe(order=order, refunds=[data], cause="sync_payments")
    refund.refresh_from_db()
    return before != (refund.status, refund.stripe_refund_id)
