"""PaymentIntents: create one per order, read them back, apply their outcome."""

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from functools import cached_property

from django.db import IntegrityError, models, transaction

from core.money import format_money
from payments.client_secrets import client_secret_digest
from payments.exceptions import (
    CheckoutUnavailable,
    PaymentProviderUnavailable,
    PaymentRejected,
    StripeNotConfigured,
    StripeObjectMissing,
    TotalChanged,
)
from payments.stripe_client import stripe_call
from shop.cart.pricing import Totals, totals_with_code
from shop.cart.selectors import CartSummary, cart_summary
from shop.catalog.models import Book
from shop.orders.models import Order, OrderStatus
from shop.orders.selectors import (
    order_checkout_holds,
    order_copies_held,
    order_get_for_update,
    order_get_open_checkout,
)
from shop.orders.services import (
    OrderTransitionNotAllowed,
    order_attach_payment_intent,
    order_create,
    order_flag_for_review,
    order_mark_canceled,
    order_mark_failed,
    order_mark_paid,
    order_mark_processing,
    order_payment_intent_cancel_done,
    order_record_payment_card,
    order_stock_reserve,
    order_stock_take_after_cancel,
    order_update_email,
    order_update_shipping,
    order_voucher_use_take,
)
from shop.orders.shipping import ShippingAddress

logger = logging.getLogger(__name__)


class PaymentIntentStatus(models.TextChoices):
    """A PaymentIntent's `status` as Stripe reports it."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method", "Requires payment method"
    REQUIRES_CONFIRMATION = "requires_confirmation", "Requires confirmation"
    REQUIRES_ACTION = "requires_action", "Requires action"
    PROCESSING = "processing", "Processing"
    REQUIRES_CAPTURE = "requires_capture", "Requires capture"
    CANCELED = "canceled", "Canceled"
    SUCCEEDED = "succeeded", "Succeeded"


class PaymentOutcome(models.TextChoices):
    """What a PaymentIntent means for its order (see `payment_intent_outcome`)."""

    SUCCEEDED = "succeeded", "Succeeded"
    PROCESSING = "processing", "Processing"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    OPEN = "open", "Open"  # the shopper is still paying


# PaymentIntent statuses in which the shopper can still confirm it.
CONFIRMABLE_STATUSES = (
    PaymentIntentStatus.REQUIRES_PAYMENT_METHOD,
    PaymentIntentStatus.REQUIRES_CONFIRMATION,
    PaymentIntentStatus.REQUIRES_ACTION,
)
DEFAULT_FAILURE_MESSAGE = "Your payment was not completed. Please try again or use another payment method."


CART_CHECKOUT = "cart"


def checkout_key_for(*, session_key: str, book: Book | None = None) -> str:
    """The key of "this session checking out its cart" (no book) or "buying this book now"."""
    return f"{session_key}:{book.pk if book else CART_CHECKOUT}"


def checkout_holds_copy(session_key: str | None, *, book: Book) -> bool:
    """Whether this session's own unpaid "buy now" order of `book` holds its copy."""
    if not session_key:
        return False
    return bool(order_copies_held(checkout_key=checkout_key_for(session_key=session_key, book=book)))


def checkout_cart_summary(*, session_key: str | None) -> CartSummary:
    """The session's cart as its checkout sees it: copies its own unpaid order holds are its own.

    After a declined card the order keeps its copies off the shelf, and the use
    of its discount code; the retry must not find them sold or used up.
    """
    if not session_key:
        return cart_summary(session_key=session_key)
    holds = order_checkout_holds(checkout_key=checkout_key_for(session_key=session_key))
    return cart_summary(session_key=session_key, held=holds.copies, held_voucher_id=holds.voucher_id)


@dataclass(frozen=True)
class CheckoutRequest:
    """What the shopper asked to pay for, priced from the database by the caller."""

    lines: list[tuple[Book, int]]
    email: str
    shipping: ShippingAddress
    expected_total: int  # minor units the shopper saw
    checkout_key: str
    cart_id: int | None = None
    client_address: str = ""  # where it came from: bounds what one address's unpaid orders hold
    voucher_code: str = ""  # the discount code the shopper saw applied ("" for none)
    held_voucher_id: int | None = (
        None  # a use of which this checkout's open order holds (set by checkout_start)
    )

    @cached_property
    def totals(self) -> Totals:
        """The lines priced from the database, with the discount code; raises VoucherRefused."""
        return totals_with_code(
            lines=[(book.price_amount, quantity) for book, quantity in self.lines],
            currency=self.lines[0][0].currency,
            code=self.voucher_code,
            held_voucher_id=self.held_voucher_id,
        )


def checkout_start(*, request: CheckoutRequest) -> tuple[Order, str]:
    """The shopper's payable order for these lines and its PaymentIntent's client secret.

    Raises TotalChanged (before anything is sent to Stripe) when the total is
    not the one the shopper saw, VoucherRefused when the discount code cannot
    be used (checked here, and again when its use is taken with the
    PaymentIntent: used up, once per email), OutOfStock when copies are short and
    UnpaidCopiesLimit when the client's unpaid orders hold too many (nothing
    reserved either way). Reuses this session's open order (and its PaymentIntent) while
    the lines and the code are the same, so retries and double clicks never create a second
    order or intent; other lines cancel the old order and its intent.
    """
    if request.voucher_code:  # the shopper's own open order may hold the code's last use
        held = order_checkout_holds(checkout_key=request.checkout_key).voucher_id
        request = dataclasses.replace(request, held_voucher_id=held)
    totals = request.totals
    if request.expected_total != totals.total_amount:
        raise TotalChanged(
            total=totals.total_amount,
            currency=request.lines[0][0].currency,
            discount=totals.discount_amount,
            voucher_code=totals.voucher_code,
        )
    for _ in range(2):  # a second pass only if the reused order turned out closed
        order, replaced = _checkout_open_order(request=request)
        if replaced is not None:
            order, client_secret = _checkout_replace(old=replaced, request=request)
        else:
            client_secret = _payment_intent_for_order(order)
        if client_secret:
            return order, client_secret
    raise CheckoutUnavailable("This order can no longer be paid. Please reload the page and try again.")


def _same_lines(*, order: Order, request: CheckoutRequest) -> bool:
    """Whether `order` is what the shopper asks to pay for now: lines, prices, discount code, total.

    A once-per-email code held for another address is not the same order: the
    new address must be checked (the replacement's use is taken anew).
    """
    wanted = sorted((book.pk, book.price_amount, quantity) for book, quantity in request.lines)
    has = sorted(order.items.values_list("book_id", "unit_amount", "quantity"))
    currency = request.lines[0][0].currency
    voucher = request.totals.voucher
    if order.voucher_id != (voucher.pk if voucher else None):
        return False
    if voucher is not None and voucher.once_per_email and order.email.lower() != request.email.lower():
        return False
    return wanted == has and order.currency == currency and order.total_amount == request.totals.total_amount


def _checkout_open_order(*, request: CheckoutRequest) -> tuple[Order | None, Order | None]:
    """(the order to pay, None), or (None, the shopper's open order with other lines, to replace)."""
    order = order_get_open_checkout(checkout_key=request.checkout_key)
    if order is not None and order.status == OrderStatus.PROCESSING:
        order = _order_processing_recheck(order)
    if order is not None and _same_lines(order=order, request=request):
        order = order_update_email(order=order, email=request.email, cause="checkout")
        return _order_shipping_update(order=order, shipping=request.shipping), None
    if order is not None:
        return None, order
    return _checkout_order_create(request=request), None


def _checkout_replace(*, old: Order, request: CheckoutRequest) -> tuple[Order, str | None]:
    """The cart or a price changed since `old` was opened: a new order takes its place.

    One transaction hands the copies over: the old order is canceled (its
    copies back on the shelf) and the new one created and reserved; if copies
    are short (OutOfStock) or Stripe fails, it rolls back and the old order
    keeps what it holds. Its PaymentIntent is canceled on Stripe after that
    commits (left to sync_payments when Stripe cannot be reached).
    """
    with transaction.atomic():
        canceled = _order_cancel_if_allowed(
            order=old, cause="cart or price changed before payment", cancel_payment_intent=True
        )
        order = _checkout_order_create(request=request)
        client_secret = _payment_intent_for_order(order)
    if canceled is not None:
        with contextlib.suppress(PaymentProviderUnavailable, StripeNotConfigured):
            payment_intent_cancel_for_order(order=canceled)
    return order, client_secret


def _checkout_order_create(*, request: CheckoutRequest) -> Order:
    key = request.checkout_key
    try:
        return order_create(
            lines=request.lines,
            email=request.email,
            shipping=request.shipping,
            checkout_key=key,
            cart_id=request.cart_id,
            client_address=request.client_address,
            voucher=request.totals.voucher,
        )
    except IntegrityError:
        # A concurrent request (double click) opened the order first: use it.
        existing = order_get_open_checkout(checkout_key=key)
        if existing is None:
            raise
        return existing


def _order_processing_recheck(order: Order) -> Order:
    """Ask Stripe before refusing a retry on a `processing` order (issue 9 item 2).

    Stripe may have moved the payment back to requires_payment_method (a
    failed bank debit, a canceled redirect): then the shopper may pay again.
    """
    intent = payment_intent_retrieve(payment_intent_id=order.payment_intent_id)
    if intent["status"] in CONFIRMABLE_STATUSES:
        return order  # payable on Stripe: the retry proceeds
    order = order_apply_payment_intent(order=order, intent=intent, cause="checkout retry").order
    if order.status in (OrderStatus.PROCESSING, OrderStatus.PAID):
        raise CheckoutUnavailable(
            "A payment for this order is already under way. We will email you when it completes."
        )
    return order


def _order_shipping_update(*, order: Order, shipping: ShippingAddress) -> Order:
    """Same lines, new address: the order and its PaymentIntent follow the shopper's correction."""
    if ShippingAddress.of_order(order) == shipping:
        return order
    if order.payment_intent_id:
        stripe_call(
            "payment_intent.update",
            lambda client: client.v1.payment_intents.update(
                order.payment_intent_id, params={"shipping": stripe_shipping(shipping)}
            ),
        )
    return order_update_shipping(order=order, shipping=shipping, cause="checkout")


def stripe_shipping(shipping: ShippingAddress) -> dict:
    """The PaymentIntent's `shipping` parameter."""
    address = {
        part: getattr(shipping, part)
        for part in ("line1", "line2", "city", "state", "postal_code", "country")
        if getattr(shipping, part)
    }
    params = {"name": shipping.name, "address": address}
    if shipping.phone:
        params["phone"] = shipping.phone
    return params


def _payment_intent_for_order(order: Order) -> str | None:
    """Client secret of the order's PaymentIntent, creating it once, with its copies reserved.

    The order row stays locked while Stripe answers, so concurrent requests
    for one order wait for the first instead of creating a second intent. The
    copies are reserved and a use of its discount code taken in the same
    transaction: if Stripe fails, they go back. The idempotency key makes a
    retried create (after a timeout) return the same intent on Stripe.
    Returns None when the order can no longer be paid.
    """
    with transaction.atomic():
        locked = order_get_for_update(order_id=order.pk)
        if not locked.payment_intent_id:
            order_stock_reserve(order=locked)  # OutOfStock: nothing reserved, nothing on Stripe
            order_voucher_use_take(order=locked)  # VoucherRefused: likewise
            metadata = {"order_id": str(locked.pk), "order_number": locked.number}
            if locked.voucher_code:
                metadata["discount_code"] = locked.voucher_code
            params = {"amount": locked.total_amount, "currency": locked.currency, "metadata": metadata}
            if locked.shipping_line1:
                params["shipping"] = stripe_shipping(ShippingAddress.of_order(locked))
            intent = stripe_call(
                "payment_intent.create",
                lambda client: client.v1.payment_intents.create(
                    params=params,
                    options={"idempotency_key": f"order-{locked.number}-{locked.pk}-payment-intent"},
                ),
            )
            order_attach_payment_intent(
                order=locked,
                payment_intent_id=intent["id"],
                client_secret_hash=client_secret_digest(intent["client_secret"]),
            )
            logger.info(
                "payment_intent_created", extra={"order": locked.number, "payment_intent": intent["id"]}
            )
            return intent["client_secret"]
        try:
            intent = payment_intent_retrieve(payment_intent_id=locked.payment_intent_id)
        except StripeObjectMissing:
            # Stripe no longer knows it (keys switched to another account, emulator
            # restarted): this order can never be paid; open a fresh one.
            _order_cancel_if_allowed(order=locked, cause="payment intent not found on Stripe")
            return None
        if intent["status"] in CONFIRMABLE_STATUSES:
            if not locked.stock_reserved:  # its reservation ran out meanwhile: take the copies again
                order_stock_reserve(order=locked)
            order_voucher_use_take(order=locked)  # once: nothing to do while it holds its use
            return intent["client_secret"]
    # Stripe knows more than we do (paid, processing or canceled): catch up.
    order = order_apply_payment_intent(order=order, intent=intent, cause="checkout retry").order
    if order.status in (OrderStatus.PAID, OrderStatus.PROCESSING):
        raise CheckoutUnavailable("This order has already been paid. Check your email for the confirmation.")
    if order.is_payable:  # e.g. canceled on Stripe but not here yet
        _order_cancel_if_allowed(order=order, cause="payment intent not confirmable")
    return None


def _order_cancel_if_allowed(
    *, order: Order, cause: str, cancel_payment_intent: bool = False
) -> Order | None:
    """Close an order the checkout gives up on, unless it moved on meanwhile (paid, say): None then."""
    try:
        return order_mark_canceled(order=order, cause=cause, cancel_payment_intent=cancel_payment_intent)
    except OrderTransitionNotAllowed:  # logged by the orders app
        return None


def payment_intent_cancel_for_order(*, order: Order) -> dict | None:
    """Cancel the canceled order's PaymentIntent on Stripe; the intent afterwards (None: none to cancel).

    A payment that beat the cancel is applied to the order (which flags it:
    paid after cancel). Raises PaymentProviderUnavailable when Stripe cannot be reached.
    """
    if not order.payment_intent_id:
        order_payment_intent_cancel_done(order=order)
        return None
    payment_intent_id = order.payment_intent_id
    try:
        intent = stripe_call(
            "payment_intent.cancel", lambda client: client.v1.payment_intents.cancel(payment_intent_id)
        )
    except StripeObjectMissing:
        order_payment_intent_cancel_done(order=order)
        return None
    except PaymentRejected:  # not cancelable: succeeded, processing or already canceled
        intent = payment_intent_retrieve(payment_intent_id=payment_intent_id)
        if intent["status"] in CONFIRMABLE_STATUSES:
            raise
        order_apply_payment_intent(order=order, intent=intent, cause="payment intent cancel")
    order_payment_intent_cancel_done(order=order)
    logger.info(
        "payment_intent_canceled",
        extra={"order": order.number, "payment_intent": payment_intent_id, "outcome": intent["status"]},
    )
    return intent


def payment_intent_retrieve(*, payment_intent_id: str, page_view: bool = False) -> dict:
    """The PaymentIntent as Stripe has it (`page_view`: within a shopper page's short budget)."""
    # The payment method expanded: its card's brand and last 4 go on the receipt.
    return stripe_call(
        "payment_intent.retrieve",
        lambda client: client.v1.payment_intents.retrieve(
            payment_intent_id, params={"expand": ["payment_method"]}
        ),
        page_view=page_view,
    )


def payment_intent_card(intent: dict) -> tuple[str, str] | None:
    """(brand, last 4) of the card that paid, when the intent carries them, else None.

    Found on an expanded payment method, an expanded latest charge, or the
    charges list older API versions include; webhook payloads carry ids only.
    """
    method, charge = intent.get("payment_method"), intent.get("latest_charge")
    charges = intent.get("charges") if isinstance(intent.get("charges"), dict) else {}
    cards = []
    if isinstance(method, dict):
        cards.append(method.get("card"))
    for item in [charge, *(charges.get("data") or [])]:
        if isinstance(item, dict) and isinstance(item.get("payment_method_details"), dict):
            cards.append(item["payment_method_details"].get("card"))
    for card in cards:
        if isinstance(card, dict) and isinstance(card.get("last4"), str):
            return str(card.get("brand") or ""), card["last4"]
    return None


def payment_intent_outcome(intent: dict) -> PaymentOutcome:
    """What a PaymentIntent means for its order: succeeded, processing, failed, canceled or open."""
    status = intent.get("status")
    if status == PaymentIntentStatus.SUCCEEDED:
        return PaymentOutcome.SUCCEEDED
    if status == PaymentIntentStatus.PROCESSING:
        return PaymentOutcome.PROCESSING
    if status == PaymentIntentStatus.CANCELED:
        return PaymentOutcome.CANCELED
    if status == PaymentIntentStatus.REQUIRES_PAYMENT_METHOD and intent.get("last_payment_error"):
        return PaymentOutcome.FAILED
    return PaymentOutcome.OPEN


def payment_intent_amount_charged(intent: dict) -> int:
    """Stripe's amount received, falling back to the amount when absent."""
    return intent.get("amount_received") or intent["amount"]


@dataclass(frozen=True)
class PaymentIntentApplied:
    """What applying a PaymentIntent did to its order."""

    order: Order  # as it is now
    changed: bool  # its status moved
    flagged: bool  # it was flagged for staff (amount, currency, or paid after cancel)
    refused: bool  # the move was not allowed (late or duplicated news): nothing changed


def order_apply_payment_intent(
    *, order: Order, intent: dict, cause: str, outcome: PaymentOutcome | None = None
) -> PaymentIntentApplied:
    """Apply what Stripe says about the order's PaymentIntent (webhook, success page, sync).

    `outcome` overrides the one read from the intent's status (a webhook's
    event type is authoritative for that event). A succeeded intent whose
    amount or currency differs from the order flags it and never marks it paid.
    """
    outcome = outcome or payment_intent_outcome(intent)
    if outcome == PaymentOutcome.SUCCEEDED:
        problem = _payment_problem(order=order, intent=intent)
        if problem:
            already = order.needs_review and problem in order.review_reason
            order = order_flag_for_review(order=order, reason=problem, cause=cause)
            if order.status == OrderStatus.CANCELED and not already:
                # The books may still be there for it (staff fulfil or refund).
                order = order_stock_take_after_cancel(order=order, cause=cause)
            return PaymentIntentApplied(order=order, changed=False, flagged=not already, refused=False)
    status = order.status
    try:
        order = _order_move(order=order, intent=intent, outcome=outcome, cause=cause)
    except OrderTransitionNotAllowed as refused:
        return PaymentIntentApplied(order=refused.order, changed=False, flagged=False, refused=True)
    card = payment_intent_card(intent) if outcome == PaymentOutcome.SUCCEEDED else None
    if card is not None:
        order_record_payment_card(order=order, brand=card[0], last4=card[1])
    return PaymentIntentApplied(order=order, changed=order.status != status, flagged=False, refused=False)


PAID_AFTER_CANCEL = "Paid after the order was canceled: refund or fulfil"


def order_paid_after_cancel(order: Order) -> bool:
    """Stripe took a payment for this order after it was canceled here (flagged for staff)."""
    return order.status == OrderStatus.CANCELED and PAID_AFTER_CANCEL in order.review_reason


def _payment_problem(*, order: Order, intent: dict) -> str:
    """Why a succeeded PaymentIntent must not mark `order` paid ("" when it may)."""
    amount, currency = intent.get("amount"), (intent.get("currency") or "").lower()
    if order.status == OrderStatus.CANCELED:  # first: the note must say why it cannot be fulfilled as is
        return f"{PAID_AFTER_CANCEL} (Stripe took payment on {intent.get('id')})."
    if amount != order.total_amount or currency != order.currency:
        charged = format_money(amount, currency) if isinstance(amount, int) else repr(amount)
        return f"Stripe reported {charged} on {intent.get('id')}; the order total is {order.total_display}."
    received = intent.get("amount_received")
    if received not in (None, 0) and received != order.total_amount:
        # The amount is right but Stripe says it received something else: staff look first.
        shown = format_money(received, currency) if isinstance(received, int) else repr(received)
        intent_id, total = intent.get("id"), order.total_display
        return f"Stripe reported {shown} received on {intent_id}; the order total is {total}."
    return ""


def _order_move(*, order: Order, intent: dict, outcome: PaymentOutcome, cause: str) -> Order:
    if outcome == PaymentOutcome.SUCCEEDED:
        return order_mark_paid(
            order=order, amount_received=payment_intent_amount_charged(intent), cause=cause
        )
    if outcome == PaymentOutcome.PROCESSING:
        return order_mark_processing(order=order, cause=cause)
    if outcome == PaymentOutcome.FAILED:
        error = intent.get("last_payment_error") or {}
        return order_mark_failed(
            order=order, message=error.get("message") or DEFAULT_FAILURE_MESSAGE, cause=cause
        )
    if outcome == PaymentOutcome.CANCELED:
        return order_mark_canceled(order=order, cause=cause)
    return order  # the shopper is still paying: nothing to record
