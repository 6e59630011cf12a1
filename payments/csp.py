"""Stripe's origins in the Content Security Policy, only on the pages that load Stripe.js.

The default policy (CONTENT_SECURITY_POLICY in config/settings.py) allows no
Stripe origin: the storefront and the admin never talk to Stripe. The
checkout page adds what Stripe.js needs with django-csp's `csp_update`: its
script and frames from js.stripe.com, 3-D Secure frames from
hooks.stripe.com, its calls to api.stripe.com and m.stripe.network, its
images. When STRIPE_API_BASE is set (an emulator on loopback in offline
mode), its origin joins connect-src: the Stripe.js stand-in calls it from
the browser.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from csp.decorators import csp_update
from django.conf import settings
from django.http import HttpRequest, HttpResponse

STRIPE_JS = "https://js.stripe.com"
STRIPE_JS_SUBDOMAINS = "https://*.js.stripe.com"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def stripe_js_sources(*, stripe_api_base: str = "") -> dict[str, list[str]]:
    """The directives Stripe.js needs on top of the default policy."""
    connect = ["https://api.stripe.com", "https://m.stripe.network"]
    api_origin = origin_of(stripe_api_base)
    if api_origin and api_origin not in connect:
        connect.append(api_origin)
    return {
        "script-src": [STRIPE_JS, STRIPE_JS_SUBDOMAINS],
        "frame-src": [STRIPE_JS, STRIPE_JS_SUBDOMAINS, "https://hooks.stripe.com"],
        "connect-src": connect,
        "img-src": ["https://*.stripe.com"],
    }


def stripe_js_allowed(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-csp's `csp_update` with Stripe's origins, on the enforced and the report-only policy.

    The sources are read per request, so a changed STRIPE_API_BASE (tests)
    is followed.
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        sources = stripe_js_sources(stripe_api_base=settings.STRIPE_API_BASE)
        with_stripe = csp_update(sources)(csp_update(sources, REPORT_ONLY=True)(view))
        return with_stripe(request, *args, **kwargs)

    return wrapped
