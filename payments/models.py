from django.db import models

from shop.orders.models import Order


class WebhookEvent(models.Model):
    """Every verified Stripe event, stored once (keyed by its Stripe event id)."""

    class Outcome(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    stripe_event_id = models.CharField("Stripe event id", max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    livemode = models.BooleanField(default=False)
    payload = models.JSONField()
    payment_intent_id = models.CharField("PaymentIntent id", max_length=255, blank=True, db_index=True)
    order = models.ForeignKey(
        Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    outcome = models.CharField(
        max_length=20, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True
    )
    note = models.TextField(blank=True, help_text="Why it was ignored, or what staff should know.")
    error = models.TextField(blank=True, help_text="The error of the last failed processing attempt.")
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["outcome", "received_at"], name="webhook_outcome_received")]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"
