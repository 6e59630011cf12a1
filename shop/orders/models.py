import secrets

from django.db import models
from django.db.models import Q

from shop.cart.models import Cart
from shop.catalog.models import Book, currency_validator
from shop.money import format_money

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


# Statuses in which the shopper may still (re)try paying for the order.
PAYABLE_STATUSES = (OrderStatus.PENDING, OrderStatus.FAILED)
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
    amount_received = models.PositiveIntegerField("amount received (minor units)", default=0)
    amount_refunded = models.PositiveIntegerField("amount refunded (minor units)", default=0)
    failure_message = models.TextField(blank=True, help_text="Why the last payment attempt failed.")
    needs_review = models.BooleanField(
        default=False, help_text="Set when Stripe reported something that does not match the order."
    )
    review_reason = models.TextField(blank=True)
    # Identifies "this shopper session buying this book" so a retry reuses the
    # order; unique while the order can still be paid (see constraint below).
    checkout_key = models.CharField(max_length=120, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # Claimed (set) right before the confirmation email is handed to the mail
    # server, cleared again if that fails: see shop/orders/emails.py.
    confirmation_sent_at = models.DateTimeField("confirmation email sent", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_refunded__lte=models.F("total_amount")),
                name="order_refund_within_total",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
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
        return self.total_amount - self.shipping_amount

    @property
    def subtotal_display(self) -> str:
        return format_money(self.subtotal_amount, self.currency)

    @property
    def shipping_address_lines(self) -> list[str]:
        """The address as it is written on a parcel, one line each, empty parts left out."""
        city_line = " ".join(p for p in (self.shipping_postal_code, self.shipping_city) if p)
        parts = [
            self.shipping_name,
            self.shipping_line1,
            self.shipping_line2,
            city_line,
            self.shipping_state,
            self.shipping_country,
        ]
        return [part for part in parts if part]

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
