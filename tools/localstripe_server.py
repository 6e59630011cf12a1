"""localstripe, with the few fixes this project needs, as a runnable server.

    python -m tools.localstripe_server --port 8420

Development and test tooling only: the shop's own code never knows which
Stripe it talks to. Changes to localstripe 1.15 (all applied before its
server module is imported, so its route table picks them up):

1. Retry after a decline. localstripe keeps a PaymentIntent's failed charge
   forever, so the intent stays `requires_payment_method` even after a new
   payment method is attached, and can never be confirmed again. Real Stripe
   lets the shopper retry on the same intent. Attaching a payment method
   (update or confirm) now clears a failed charge, as Stripe does.
2. Browser confirmation. Stripe.js confirms with the publishable key plus the
   intent's client secret (`POST /v1/payment_intents/<id>/confirm` with
   `payment_method` or `payment_method_data`), creates payment methods and
   reads the intent back with them. localstripe only allowed tokens and
   sources that way, and rejected `payment_method` on confirm.
3. `shipping` on PaymentIntents. Stripe takes the shipping name, phone and
   address on create and update and returns them on the intent; localstripe
   rejected the parameter. It is now checked for Stripe's required parts
   (name, address.line1) and stored.
4. Memory only. localstripe pickles its whole store to one shared file in
   /tmp after every write; two instances (tests and `make run`) would
   overwrite each other's data, and the file grows slower with every write.
5. Webhook endpoints. localstripe has no /v1/webhook_endpoints, which
   `manage.py stripe_webhook_endpoint` sets up: added in Stripe's shapes
   (tools/localstripe_webhook_endpoints.py), and an enabled endpoint
   receives the emulator's events.
6. A failed 3-D Secure authentication sends `payment_intent.payment_failed`,
   as Stripe does; localstripe sent nothing, so the order stayed pending.
"""

import argparse
import re

from localstripe import resources
from localstripe.errors import UserError

PaymentIntent = resources.PaymentIntent
PaymentMethod = resources.PaymentMethod
_original_update = PaymentIntent._api_update.__func__
_original_confirm = PaymentIntent._api_confirm
_original_init = PaymentIntent.__init__
_original_authenticate = PaymentIntent._api_authenticate
_SHIPPING_ADDRESS_PARTS = ("line1", "line2", "city", "state", "postal_code", "country")


def _checked_shipping(shipping):
    """Stripe's shape: {name, phone?, address: {line1, ...}}; 400 otherwise."""
    if shipping in (None, ""):
        return None
    address = shipping.get("address") if isinstance(shipping, dict) else None
    if not (isinstance(address, dict) and shipping.get("name") and address.get("line1")):
        raise UserError(400, "Bad request: shipping needs a name and address.line1")
    if set(shipping) - {"name", "phone", "address", "carrier", "tracking_number"} or set(address) - set(
        _SHIPPING_ADDRESS_PARTS
    ):
        raise UserError(400, "Bad request: unknown shipping field")
    return {
        "name": shipping["name"],
        "phone": shipping.get("phone") or None,
        "address": {part: address.get(part) or None for part in _SHIPPING_ADDRESS_PARTS},
        "carrier": shipping.get("carrier"),
        "tracking_number": shipping.get("tracking_number"),
    }


def _init(self, *args, shipping=None, **kwargs):
    checked = _checked_shipping(shipping)  # before the object is stored
    _original_init(self, *args, **kwargs)
    self.shipping = checked


def _clear_failed_attempt(intent) -> None:
    if intent.latest_charge is not None and intent.latest_charge.status == "failed":
        intent.latest_charge = None
    intent._authentication_failed = False


def _api_update(cls, id, **data):
    if "shipping" in data:
        data["shipping"] = _checked_shipping(data["shipping"])
    if "payment_method" in data:
        _clear_failed_attempt(cls._api_retrieve(id))
    return _original_update(cls, id, **data)


def _api_confirm(
    cls, id, client_secret=None, payment_method=None, payment_method_data=None, return_url=None, **kwargs
):
    """Confirm, optionally with a new payment method (as Stripe and Stripe.js do)."""
    intent = cls._api_retrieve(id)
    if client_secret is not None and client_secret != intent.client_secret:
        raise UserError(401, "Unauthorized")
    if payment_method_data is not None:
        if not isinstance(payment_method_data, dict):
            raise UserError(400, "Bad request")
        payment_method = PaymentMethod(**payment_method_data).id
    if payment_method is not None:
        PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
        if intent.status not in ("requires_payment_method", "requires_confirmation"):
            raise UserError(400, "This PaymentIntent cannot be confirmed in its current state.")
        _clear_failed_attempt(intent)
        intent.payment_method = payment_method
    return _original_confirm(id, **kwargs)


def _api_authenticate(cls, id, **data):
    """The 3-D Secure outcome; a failure is reported to webhooks like a declined payment."""
    intent = _original_authenticate(id, **data)
    if intent.last_payment_error and intent.status == "requires_payment_method":
        resources.schedule_webhook(resources.Event("payment_intent.payment_failed", intent))
    return intent


PaymentIntent.__init__ = _init
PaymentIntent._api_update = classmethod(_api_update)
PaymentIntent._api_confirm = classmethod(_api_confirm)
PaymentIntent._api_authenticate = classmethod(_api_authenticate)
_PATCHED_ROUTES = {
    "/v1/payment_intents/{id}/confirm": PaymentIntent._api_confirm,
    "/v1/payment_intents/{id}/_authenticate": PaymentIntent._api_authenticate,
}
resources.extra_apis[:] = [
    (method, url, _PATCHED_ROUTES.get(url, func)) for method, url, func in resources.extra_apis
]
resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

from localstripe import server  # noqa: E402  (must see the patched route table)

from tools import localstripe_webhook_endpoints  # noqa: E402

localstripe_webhook_endpoints.install(server)

_BROWSER_POST_PATHS = (
    re.compile(r"^/v1/payment_methods$"),
    re.compile(r"^/v1/payment_intents/(?P<id>\w+)/confirm$"),
)
_BROWSER_GET_PATHS = (re.compile(r"^/v1/payment_intents/(?P<id>\w+)$"),)
_original_auth_middleware = server.auth_middleware


def _publishable_key_allowed(request, data) -> bool:
    """Stripe.js calls: publishable key, plus the client secret for an intent."""
    key = data.get("key") if isinstance(data, dict) else None
    if not (isinstance(key, str) and key.startswith("pk_")):
        return False
    patterns = _BROWSER_POST_PATHS if request.method == "POST" else _BROWSER_GET_PATHS
    for pattern in patterns:
        match = pattern.match(request.path)
        if match is None:
            continue
        intent_id = match.groupdict().get("id")
        if intent_id is None:
            return True
        try:
            intent = PaymentIntent._api_retrieve(intent_id)
        except UserError:
            return False
        return data.get("client_secret") == intent.client_secret
    return False


@server.web.middleware
async def _auth_middleware(request, handler):
    if request.method == "POST":
        data = await server.get_post_data(request, remove_auth=False)
    else:
        data = server.unflatten_data(request.query)
    if _publishable_key_allowed(request, data or {}):
        return await handler(request)
    return await _original_auth_middleware(request, handler)


# The app is not started yet, so its middleware list can still be changed.
_middlewares = server.app.middlewares
_middlewares[_middlewares.index(_original_auth_middleware)] = _auth_middleware


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()
    server.web.run_app(server.app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
