"""The only place that builds a Stripe client.

Everything in `payments/` that talks to Stripe calls `stripe_client()` and
`stripe_call()`; nothing else in the project imports `stripe` for API calls.

One client per process for each (key, API base, ...): its HTTP session keeps
connections to Stripe open, so a call does not pay a new TLS handshake.

Every request asks for STRIPE_API_VERSION, the version the shop's code (and the
webhook endpoint's events, `manage.py stripe_webhook_endpoint`) is written
against: the version stripe-python pins, so upgrading that library is a
deliberate change of this constant (payments/tests/test_stripe_client.py).

Calls made while a shopper's page is rendered (`page_view=True`) get a short
budget, STRIPE_PAGE_TIMEOUT_SECONDS and no retries, so a hanging Stripe holds
a page a couple of seconds, never STRIPE_TIMEOUT_SECONDS times the retries.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from payments.exceptions import (
    PaymentProviderUnavailable,
    PaymentRejected,
    StripeNotConfigured,
    StripeObjectMissing,
)

logger = logging.getLogger(__name__)

STRIPE_API_VERSION = "2026-10-28.endive"

# Builds the HTTP client for a timeout (seconds). Tests swap it for a stripe
# HTTPClient that simulates outages (timeouts, 5xx, 429): stripe-python's own
# pluggable seam.
http_client_factory: Callable[[float], stripe.HTTPClient] = lambda timeout: stripe.RequestsClient(  # noqa: E731
    timeout=timeout
)


def missing_stripe_settings() -> list[str]:
    """Names of the Stripe settings the checkout needs and does not have."""
    needed = ["STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY"]
    return [name for name in needed if not getattr(settings, name)]


_clients: dict[tuple, stripe.StripeClient] = {}
_clients_lock = threading.Lock()


def stripe_client(*, page_view: bool = False) -> stripe.StripeClient:
    """The client for background work and API endpoints, or with `page_view` the short-budget one."""
    if not settings.STRIPE_SECRET_KEY:
        logger.error("stripe_not_configured", extra={"missing": "STRIPE_SECRET_KEY"})
        raise StripeNotConfigured()
    if page_view:
        timeout, retries = settings.STRIPE_PAGE_TIMEOUT_SECONDS, 0
    else:
        timeout, retries = settings.STRIPE_TIMEOUT_SECONDS, settings.STRIPE_MAX_NETWORK_RETRIES
    # The HTTP client factory is part of the key: a test that swaps it gets
    # its own client, and the usual one afterwards.
    key = (settings.STRIPE_SECRET_KEY, settings.STRIPE_API_BASE, retries, timeout, http_client_factory)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            base_addresses = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
            client = _clients[key] = stripe.StripeClient(
                settings.STRIPE_SECRET_KEY,
                base_addresses=base_addresses,
                stripe_version=STRIPE_API_VERSION,
                max_network_retries=retries,
                http_client=http_client_factory(timeout),
            )
    return client


@receiver(setting_changed)
def stripe_clients_reset(*, setting: str, **kwargs) -> None:
    """Tests change the Stripe settings: drop the clients built for the old values."""
    if setting.startswith("STRIPE_"):
        with _clients_lock:
            _clients.clear()


def stripe_call(action: str, call: Callable[[stripe.StripeClient], Any], *, page_view: bool = False) -> dict:
    """Run `call(client)` and return the Stripe object as a plain dict (`page_view`: the short budget).

    Maps stripe-python errors onto our named exceptions: outages (network,
    timeouts, 5xx, 429) -> PaymentProviderUnavailable; refusals -> PaymentRejected
    (CardError keeps Stripe's shopper-facing message).
    """
    try:
        result = call(stripe_client(page_view=page_view))
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("stripe_unavailable", extra={"action": action, "error": type(exc).__name__})
        raise PaymentProviderUnavailable() from exc
    except stripe.CardError as exc:
        logger.info("stripe_card_error", extra={"action": action, "code": exc.code})
        raise PaymentRejected(exc.user_message or PaymentRejected.message) from exc
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        logger.warning(
            "stripe_error",
            extra={
                "action": action,
                "status": status,
                "error": type(exc).__name__,
                "request_id": exc.request_id,
            },
        )
        if status >= 500 or status in (0, 409):
            raise PaymentProviderUnavailable() from exc
        if status == 404:
            raise StripeObjectMissing() from exc
        raise PaymentRejected() from exc
    return result.to_dict()


def stripe_key_mode() -> str:
    """ "live" or "test", from the secret key's prefix (for dashboard links)."""
    key = settings.STRIPE_SECRET_KEY
    return "live" if key.startswith(("sk_live_", "rk_live_")) else "test"


def stripe_dashboard_exists() -> bool:
    """Whether payments are on Stripe (whose dashboard shows them), not on a local emulator."""
    return not settings.STRIPE_OFFLINE_MODE and settings.STRIPE_API_BASE in ("", settings.STRIPE_API_HOST)


def _dashboard_base() -> str:
    prefix = "" if stripe_key_mode() == "live" else "test/"
    return f"https://dashboard.stripe.com/{prefix}"


def stripe_dashboard_url(payment_intent_id: str) -> str:
    return f"{_dashboard_base()}payments/{payment_intent_id}"


def stripe_dashboard_dispute_url(dispute_id: str) -> str:
    """The dispute's page on Stripe's dashboard; "" on an emulator, where no dashboard knows it."""
    if not stripe_dashboard_exists():
        return ""
    return f"{_dashboard_base()}disputes/{dispute_id}"
