import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper

from core.money import format_money
from shop.cart.models import Cart
from shop.catalog.models import Book, currency_validator

# No 0/O, 1/I/L: numbers are read out loud on the phone to support.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_order_number() -> str:
    return "SP-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


class FulfilmentStatus(models.TextChoices):
    """What happened to the parcel, beside (not instead of) the payment status."""

    UNFULFILLED = "unfulfilled", "Unfulfilled"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    NOT_TO_SHIP = "not_to_ship", "Not to ship"


class DisputeStatus(models.TextChoices):
    """Whether the order's payment is disputed (a chargeback or an inquiry from the shopper's bank).

    Set by the payments app from Stripe's dispute events (`order_mark_disputed`);
    the disputes themselves are payments' records. WON also covers an inquiry
    closed without a chargeback and a dispute prevented: no money was lost.
    """

    NONE = "", "Not disputed"
    OPEN = "open", "Disputed"
    WON = "won", "Dispute won"
    LOST = "lost", "Dispute lost"


class Carrier(models.TextChoices):
    USPS = "usps", "USPS"
    UPS = "ups", "UPS"
    FEDEX = "fedex", "FedEx"
    DHL = "dhl", "DHL"
    ROYAL_MAIL = "royal_mail", "Royal Mail"
    CANADA_POST = "canada_post", "Canada Post"
    OTHER = "other", "Other"


# Statuses in which the shopper may still (re)try paying for the order.
PAYABLE_STATUSES = (OrderStatus.PENDING, OrderStatus.FAILED)
# Paid for, at least in part: only such an order may be shipped.
SHIPPABLE_STATUSES = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED)
# An open checkout: payable, or being paid. At most one per checkout key
# (the unique constraint below); the checkout reuses it.
OPEN_CHECKOUT_STATUSES = [*PAYABLE_STATUSES, OrderStatus.PROCESSING]


class Order(models.Model):
    number = models.CharField(max_length=16, unique=True, default=new_order_number, editable=False)
    email = models.EmailField()
    status = models.CharField(
        max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING, db_index=True
    )
    currency = models.CharField(max_length=3, validators=[currency_validator])
    total_amount = models.PositiveIntegerField("total (minor units)", help_text="Lines plus shipping.")
    shipping_amount = models.PositiveIntegerField("shipping (minor units)", default=0)
    # Where the books go, as the shopper gave it at checkout (sent to Stripe as `shipping`).
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_phone = models.CharField(max_length=40, blank=True)
    shipping_line1 = models.CharField("address line 1", max_length=200, blank=True)
    shipping_line2 = models.CharField("address line 2", max_length=200, blank=True)
    shipping_city = models.CharField("city", max_length=100, blank=True)
    shipping_state = models.CharField("state / region", max_length=100, blank=True)
    shipping_postal_code = models.CharField("postal code", max_length=20, blank=True)
    shipping_country = models.CharField("country", max_length=2, blank=True)
    # The cart it was checked out from (empty for "buy this book now"); emptied when paid.
    cart = models.ForeignKey(Cart, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # True while the order holds its copies (reserved when its PaymentIntent was
    # created, kept once paid); cleared exactly once when they go back on hand.
    stock_reserved = models.BooleanField(default=False, editable=False)
    stock_reserved_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Canceled here while its PaymentIntent may still be payable on Stripe:
    # set with the cancel, cleared once Stripe canceled it (sync_payments retries).
    payment_intent_cancel_pending = models.BooleanField(default=False, editable=False)
    payment_intent_id = models.CharField(
        "PaymentIntent id", max_length=255, unique=True, null=True, blank=True
    )
    # SHA-256 of the PaymentIntent's client secret, stored when the intent is
    # attached: the success page checks a visitor's secret against it without
    # asking Stripe (strangers with a guessed secret cost no Stripe call).
    client_secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    amount_received = models.PositiveIntegerField("amount received (minor units)", default=0)
    amount_refunded = models.PositiveIntegerField("amount refunded (minor units)", default=0)
    failure_message = models.TextField(blank=True, help_text="Why the last payment attempt failed.")
    needs_review = models.BooleanField(
        default=False, help_text="Set when Stripe reported something that does not match the order."
    )
    review_reason = models.TextField(blank=True)
    # Where the checkout came from (the client's address; an IPv6 client's /64): what one
    # address's unpaid orders may hold off the shelf is bounded (UNPAID_COPIES_PER_CLIENT).
    client_address = models.CharField(max_length=64, blank=True, editable=False)
    # Identifies "this shopper session buying this book" so a retry reuses the
    # order; unique while the order can still be paid (see constraint below).
    checkout_key = models.CharField(max_length=120, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # How it was paid, for the receipt, when Stripe says (a card's brand and last 4 digits).
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField("card last 4", max_length=4, blank=True)
    # Claimed (set) right before the confirmation email is handed to the mail
    # server, cleared again if that fails: see shop/orders/emails.py.
    confirmation_sent_at = models.DateTimeField("confirmation email sent", null=True, blank=True)
    # Fulfilment: changed only by shop/orders/services.py (order_mark_shipped, order_mark_delivered,
    # and a full refund of an unshipped order), each change a FulfilmentChange row.
    fulfilment_status = models.CharField(
        max_length=20, choices=FulfilmentStatus.choices, default=FulfilmentStatus.UNFULFILLED
    )
    carrier = models.CharField(max_length=20, choices=Carrier.choices, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    shipped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The discount code applied at checkout (its code kept as it was) and what it took off the books:
    # total_amount is books - discount + shipping, what was charged.
    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    voucher_code = models.CharField("discount code", max_length=40, blank=True)
    discount_amount = models.PositiveIntegerField("discount (minor units)", default=0)
    # True while the order holds one use of its voucher (taken in the transaction that creates its
    # PaymentIntent); cleared exactly once when the use is given back (cancel, abandon, full refund).
    voucher_use_held = models.BooleanField(default=False, editable=False)
    # Changed only by `order_mark_disputed` (payments' dispute events): staff see it, and shipping
    # a disputed order asks for confirmation.
    dispute_status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, blank=True, default=DisputeStatus.NONE
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("ship_order", "Can mark orders shipped or delivered"),
            ("view_sales", "Can view the sales overview"),
        ]
        indexes = [
            # "To ship" (paid, unfulfilled, oldest first) and the sales figures by payment day.
            models.Index(fields=["fulfilment_status", "status", "created_at"], name="order_fulfilment_queue"),
            models.Index(fields=["paid_at"], name="order_paid_at"),
            models.Index(fields=["needs_review"], condition=Q(needs_review=True), name="order_needs_review"),
            models.Index(fields=["dispute_status"], condition=~Q(dispute_status=""), name="order_disputed"),
            # "Find my orders" looks an address up case-insensitively (`email__iexact`: UPPER on PostgreSQL).
            models.Index(Upper("email"), name="order_email_upper"),
            # Copies held by unpaid orders, per client address (order_stock_reserve counts them).
            models.Index(
                fields=["client_address"],
                condition=Q(stock_reserved=True, status__in=OPEN_CHECKOUT_STATUSES),
                name="order_unpaid_holds",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("total_amount")),
                name="order_refund_within_total",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=Q(fulfilment_status__in=FulfilmentStatus.values),
                name="order_fulfilment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(dispute_status__in=DisputeStatus.values), name="order_dispute_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(discount_amount=0) | ~Q(voucher_code=""), name="order_discount_has_code"
            ),
            models.UniqueConstraint(
                fields=["checkout_key"],
                condition=~Q(checkout_key="") & Q(status__in=OPEN_CHECKOUT_STATUSES),
                name="order_one_open_checkout_per_key",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def total_display(self) -> str:
        return format_money(self.total_amount, self.currency)

    @property
    def shipping_display(self) -> str:
        return format_money(self.shipping_amount, self.currency)

    @property
    def subtotal_amount(self) -> int:
        """The books at their prices, before the discount."""
        return self.total_amount - self.shipping_amount + self.discount_amount

    @property
    def discount_display(self) -> str:
        return format_money(self.discount_amount, self.currency)

    @property
    def subtotal_display(self) -> str:
        return format_money(self.subtotal_amount, self.currency)

    @property
    def is_disputed(self) -> bool:
        """Its payment was disputed at some point, whatever came of it."""
        return self.dispute_status != DisputeStatus.NONE

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE_STATUSES

    @property
    def amount_charged(self) -> int:
        """What the shopper paid: Stripe's amount received, or the total until Stripe said."""
        return self.amount_received or self.total_amount


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    book = models.ForeignKey(Book, on_delete=models.PROTECT, related_name="order_items")
    title = models.CharField(max_length=200, help_text="The book's title when ordered.")
    unit_amount = models.PositiveIntegerField("unit price (minor units)")
    quantity = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.title}"

    @property
    def line_amount(self) -> int:
        return self.unit_amount * self.quantity

    @property
    def unit_display(self) -> str:
        return format_money(self.unit_amount, self.order.currency)

    @property
    def line_display(self) -> str:
        return format_money(self.line_amount, self.order.currency)


class OrderStatusChange(models.Model):
    """Audit row: one per status change, never edited."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=OrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=OrderStatus.choices)
    cause = models.CharField(
        max_length=255, help_text="What caused it: a Stripe event id, 'success page', a staff user…"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class FulfilmentChange(models.Model):
    """Audit row: one per fulfilment change (shipped, delivered, not to ship), never edited."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfilment_changes")
    from_status = models.CharField(max_length=20, choices=FulfilmentStatus.choices)
    to_status = models.CharField(max_length=20, choices=FulfilmentStatus.choices)
    cause = models.CharField(max_length=255, help_text="Who or what: a staff user, a refund…")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class OrderEmail(models.Model):
    """One email to the shopper about an order (its confirmation, later "shipped"…).

    Written in the transaction of the change that causes it, together with the
    task that sends it (shop/orders/tasks.py); the task claims it, sends, then
    records `sent_at`. At most one row per order and kind: each is sent once.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)
    # Last time a task was enqueued for it (the retry pass re-enqueues lost ones).
    queued_at = models.DateTimeField()
    # Set by the task that is sending it; a claim older than the lease was lost (a killed worker).
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="order_email_once_per_kind")]
        indexes = [models.Index(fields=["sent_at", "queued_at"], name="order_email_unsent_idx")]

    def __str__(self) -> str:
        return f"{self.kind} email for order {self.order_id}"


class OrderListEmail(models.Model):
    """When an address was last sent its list of orders ("Find my orders"): one such email per cooldown.

    One row per address, keyed by an HMAC of the normalised address
    (shop/orders/order_list.py), so the table holds no address a stranger
    typed. Taken with a conditional UPDATE (or the insert of a new row, the
    unique key deciding between racing requests); rows older than the
    cooldown mean nothing and are deleted by the email task.
    """

    address_key = models.CharField(max_length=64, unique=True)
    last_queued_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"order list email queued {self.last_queued_at:%Y-%m-%d %H:%M}"
