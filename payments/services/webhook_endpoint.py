"""The shop's webhook endpoint on the Stripe account, set up and checked by `stripe_webhook_endpoint`.

An endpoint is the shop's when its URL is the one given. It is right when it
is enabled, sends exactly the event types the shop handles (the keys of
EVENT_HANDLERS: a new handler is all it takes) and has Stripe build its
events with STRIPE_API_VERSION, the version the shop reads.

`webhook_endpoint_set_up` creates it (its signing secret comes back this
once), or updates the one found: events and enabled. Stripe cannot change an
endpoint's API version; one on another version is reported with what to do.
`webhook_endpoints_for_url` changes nothing and says how each endpoint for
the URL differs (the command's --check). Stripe's refusals and outages raise
WebhookEndpointError, with Stripe's own message.
"""

from dataclasses import dataclass, field

from payments.exceptions import PaymentError, StripeNotConfigured
from payments.services.webhook_handlers import EVENT_HANDLERS
from payments.stripe_client import STRIPE_API_VERSION, stripe_call

DESCRIPTION = "Stripe Press: payments, refunds and disputes (manage.py stripe_webhook_endpoint)"
PAGE_SIZE = 100


class WebhookEndpointError(Exception):
    """Stripe could not be asked, or refused: `str()` says why, for the command's user."""


def webhook_event_types() -> list[str]:
    """The event types the shop handles, sorted: what its endpoint must send."""
    return sorted(EVENT_HANDLERS)


@dataclass(frozen=True)
class EndpointState:
    """One endpoint for the URL, and how it differs from what the shop needs."""

    endpoint: dict
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    disabled: bool = False
    api_version: str | None = None  # set when it is not STRIPE_API_VERSION (None: the account's default)
    other_version: bool = False

    @property
    def problems(self) -> list[str]:
        found = []
        if self.missing:
            found.append(f"missing event types: {', '.join(self.missing)}")
        if self.extra:
            found.append(f"event types the shop does not handle: {', '.join(self.extra)}")
        if self.disabled:
            found.append("disabled: Stripe sends it nothing")
        if self.other_version:
            version = self.api_version or "the account's default"
            found.append(f"API version {version}, the shop reads {STRIPE_API_VERSION}")
        return found


def webhook_endpoint_state(endpoint: dict) -> EndpointState:
    enabled = set(endpoint.get("enabled_events") or [])
    needed = set(webhook_event_types())
    missing = [] if "*" in enabled else sorted(needed - enabled)
    return EndpointState(
        endpoint=endpoint,
        missing=missing,
        extra=sorted(enabled - needed),
        disabled=endpoint.get("status") != "enabled",
        api_version=endpoint.get("api_version"),
        other_version=endpoint.get("api_version") != STRIPE_API_VERSION,
    )


def webhook_endpoints_for_url(*, url: str) -> list[EndpointState]:
    """Every endpoint of the account whose URL is `url`, with how each differs from the shop's needs."""
    found, after = [], None
    while True:
        params = {"limit": PAGE_SIZE, **({"starting_after": after} if after else {})}
        page = _stripe(
            "webhook_endpoints.list",
            lambda client, params=params: client.v1.webhook_endpoints.list(params=params),
        )
        endpoints = page.get("data") or []
        found += [webhook_endpoint_state(e) for e in endpoints if e.get("url") == url]
        if not (page.get("has_more") and endpoints):
            return found
        after = endpoints[-1]["id"]


@dataclass(frozen=True)
class EndpointSetUp:
    state: EndpointState  # the endpoint as it is now
    created: bool
    secret: str = ""  # only when created: Stripe shows it once
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    enabled_again: bool = False
    others: list[EndpointState] = field(default_factory=list)  # more endpoints for the same URL

    @property
    def changed(self) -> bool:
        return self.created or bool(self.added or self.removed or self.enabled_again)


def webhook_endpoint_set_up(*, url: str) -> EndpointSetUp:
    """Create the endpoint for `url`, or bring the one found up to date (events, enabled)."""
    found = webhook_endpoints_for_url(url=url)
    if not found:
        params = {
            "url": url,
            "enabled_events": webhook_event_types(),
            "api_version": STRIPE_API_VERSION,
            "description": DESCRIPTION,
        }
        endpoint = _stripe(
            "webhook_endpoints.create", lambda client: client.v1.webhook_endpoints.create(params=params)
        )
        secret = endpoint.pop("secret", "")
        return EndpointSetUp(state=webhook_endpoint_state(endpoint), created=True, secret=secret)
    # Keep the one on the shop's API version if there is one: it cannot be changed.
    found.sort(key=lambda state: (state.other_version, state.disabled))
    current, others = found[0], found[1:]
    if not (current.missing or current.extra or current.disabled):
        return EndpointSetUp(state=current, created=False, others=others)
    params = {"enabled_events": webhook_event_types(), "disabled": False}
    endpoint_id = current.endpoint["id"]
    endpoint = _stripe(
        "webhook_endpoints.update",
        lambda client: client.v1.webhook_endpoints.update(endpoint_id, params=params),
    )
    return EndpointSetUp(
        state=webhook_endpoint_state(endpoint),
        created=False,
        added=current.missing,
        removed=current.extra,
        enabled_again=current.disabled,
        others=others,
    )


def _stripe(action: str, call) -> dict:
    try:
        return stripe_call(action, call)
    except StripeNotConfigured as exc:
        raise WebhookEndpointError("STRIPE_SECRET_KEY is not set: Stripe cannot be asked.") from exc
    except PaymentError as exc:
        cause = exc.__cause__
        detail = getattr(cause, "user_message", None) or str(cause or exc.message)
        raise WebhookEndpointError(f"Stripe answered {action} with {type(exc).__name__}: {detail}") from exc
