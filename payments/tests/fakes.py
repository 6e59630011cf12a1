"""Stripe outages through stripe-python's pluggable HTTP client.

The narrowest seam: stripe-python still builds, sends and parses every request
and maps errors itself; only the network answer is scripted.
"""

import json

import pytest
import stripe

from payments import stripe_client

TIMEOUT = "timeout"
CONNECTION_REFUSED = "connection refused"
REAL = "real"  # this one request reaches the real network (the emulator)


def _error_body(status: int) -> str:
    kinds = {429: ("rate_limit", "Too many requests")}
    code, message = kinds.get(status, ("api_error", "Something went wrong on Stripe's end."))
    return json.dumps({"error": {"type": "api_error", "code": code, "message": message}})


class ScriptedStripeHTTPClient(stripe.HTTPClient):
    """Answers each request with the next scripted failure, then (optionally) the real network.

    A failure is TIMEOUT, CONNECTION_REFUSED or an HTTP status (500, 503, 429…);
    a (200, dict) pair answers with that Stripe object, for states the emulator
    cannot reach (e.g. an intent still `processing`); REAL lets that request through.
    """

    name = "scripted"

    def __init__(self, failures, *, then_real: bool = False):
        super().__init__()
        self.failures = list(failures)
        self.real = stripe.RequestsClient(timeout=5) if then_real or REAL in self.failures else None
        self.requests: list[tuple[str, str]] = []

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        self.requests.append((method, url))
        if not self.failures:
            if self.real is None:
                raise AssertionError(f"unexpected Stripe call {method} {url}")
            return self.real.request(method, url, headers, post_data)
        failure = self.failures.pop(0) if len(self.failures) > 1 or self.real else self.failures[0]
        if failure == REAL:
            return self.real.request(method, url, headers, post_data)
        if isinstance(failure, tuple):
            status, body = failure
            return json.dumps(body), status, {"Request-Id": "req_scripted"}
        if failure == TIMEOUT:
            raise stripe.APIConnectionError("Request to Stripe timed out", should_retry=True)
        if failure == CONNECTION_REFUSED:
            raise stripe.APIConnectionError("Could not connect to Stripe", should_retry=True)
        return _error_body(failure), failure, {"Request-Id": "req_scripted"}

    def close(self):
        if self.real is not None:
            self.real.close()


@pytest.fixture
def stripe_outage(monkeypatch):
    """`stripe_outage(500)` makes every Stripe call answer 500 (the last failure repeats);
    `stripe_outage(TIMEOUT, then_real=True)` fails once, then reaches the emulator."""

    def install(*failures, then_real: bool = False) -> ScriptedStripeHTTPClient:
        client = ScriptedStripeHTTPClient(failures, then_real=then_real)
        monkeypatch.setattr(stripe_client, "http_client_factory", lambda timeout: client)
        return client

    return install
