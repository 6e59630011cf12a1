from django.conf import settings
from django.db import models
from django.db.models import Q

from core.money import format_money
from shop.orders.models import Order


class WebhookEvent(models.Model):
    """Every verified Stripe event, stored once (keyed by its Stripe event id)."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    stripe_event_id = models.CharField("Stripe event id", max_length=255)
    type = models.CharField(max_length=100)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    payment_intent_id = models.CharField("PaymentIntent id", max_length=255, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.RECEIVED)
    note = models.TextField(blank=True, help_text="Why it was ignored, or what staff should know.")
    error = models.TextField(blank=True, help_text="The error of the last failed processing attempt.")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        # Like refunds' `refund_order`: staff who may process a failed event again from its page.
        permissions = [("replay_webhookevent", "Can replay failed webhook events")]
        # Each webhook writes a row: only the indexes some query reads. Declared here, not with
        # unique=True / db_index=True on the fields, which on PostgreSQL add a second
        # (varchar_pattern_ops) index per field for LIKE 'prefix%', a query nothing here makes.
        # Outcome alone is the first column of (outcome, received_at).
        constraints = [
            models.UniqueConstraint(fields=["stripe_event_id"], name="webhook_stripe_event_id_unique")
        ]
        indexes = [
            models.Index(fields=["outcome", "received_at"], name="webhook_outcome_received"),
            models.Index(fields=["type"], name="webhook_type"),
            models.Index(fields=["payment_intent_id"], name="webhook_payment_intent"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class RefundStatus(models.TextChoices):
    """A refund's status as Stripe reports it."""

    PENDING = "pending", "Pending"
    REQUIRES_ACTION = "requires_action", "Requires action"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class Refund(models.Model):
    """A refund of (part of) an order's payment: asked for by staff, or made on Stripe.

    The row is written before Stripe is asked (status pending, no Stripe id
    yet), so a request whose answer never arrived is still on record and is
    resolved by `sync_payments`. Made outside the shop (Stripe dashboard), it
    is created from the webhook with no `created_by`.
    """

    Status = RefundStatus

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    stripe_refund_id = models.CharField(
        "Stripe refund id", max_length=255, unique=True, null=True, blank=True
    )
    amount = models.PositiveIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.TextField(blank=True)
    failure_reason = models.TextField(blank=True, help_text="Why Stripe refused it, or could not be asked.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("refund_order", "Can refund orders")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(status__in=RefundStatus.values), name="refund_status_valid"),
        ]

    def __str__(self) -> str:
        return self.stripe_refund_id or f"refund #{self.pk} (not confirmed by Stripe)"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    @property
    def is_confirmed(self) -> bool:
        """Stripe has answered with an id for it."""
        return bool(self.stripe_refund_id)


class Dispute(models.Model):
    """A dispute of a payment (a chargeback, or an inquiry before one), as Stripe last reported it.

    Written only from Stripe's `charge.dispute.*` events (payments/services/disputes.py):
    the newest event applied wins (`last_event_created`, Stripe's own clock). `order` is
    the order whose PaymentIntent was disputed, or empty when none of ours has it: the
    dispute is kept all the same, for staff to look into.
    """

    # Stripe's statuses after which nothing more is expected (an appeal opens it again).
    CLOSED_STATUSES = ("won", "lost", "warning_closed", "prevented")

    stripe_dispute_id = models.CharField("Stripe dispute id", max_length=255)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="disputes"
    )
    payment_intent_id = models.CharField("PaymentIntent id", max_length=255, blank=True)
    charge_id = models.CharField("charge id", max_length=255, blank=True)
    amount = models.PositiveIntegerField("amount (minor units)")
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=64, help_text="Stripe's status of the dispute.")
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(help_text="When Stripe created the dispute.")
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When it reached a closed status.")
    last_event_id = models.CharField("last event applied", max_length=255)
    last_event_type = models.CharField(max_length=100)
    last_event_created = models.DateTimeField(help_text="When Stripe created the last event applied.")
    # Claimed (set) right before the email to staff is handed to the mail server: sent once.
    staff_emailed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        permissions = [("receive_dispute_emails", "Receives an email for each new dispute")]
        constraints = [
            models.UniqueConstraint(fields=["stripe_dispute_id"], name="dispute_stripe_id_unique"),
        ]
        indexes = [
            models.Index(fields=["payment_intent_id"], name="dispute_payment_intent"),
            models.Index(fields=["status", "evidence_due_by"], name="dispute_status_due"),
        ]

    def __str__(self) -> str:
        return self.stripe_dispute_id

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES
