"""Signing webhook payloads as Stripe does, for tests (a real HMAC, never a mock)."""

import stripe


def stripe_signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header computed with a real HMAC, as Stripe does."""
    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
