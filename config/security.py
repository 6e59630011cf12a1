"""Security headers Django does not set itself: CSP and Permissions-Policy.

The Content Security Policy allows exactly what Stripe.js needs (its script
and frames from js.stripe.com, its calls to api.stripe.com and
m.stripe.network) and nothing inline: every script and style of the shop is
a static file, page data travels in `json_script` blocks, which are not
executed. When STRIPE_API_BASE is set, its origin is added to connect-src:
in offline mode the Stripe.js stand-in calls the emulator from the browser.

The Django admin works under the same policy: its JavaScript and CSS are
static files, and the one inline <style> it has (a changelist column width
shown only when a ModelAdmin turns off both action bars) is cosmetic.

Other headers come from Django's settings: HSTS, nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy (SecurityMiddleware), X-Frame-Options
(XFrameOptionsMiddleware).
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

STRIPE_JS = "https://js.stripe.com"
STRIPE_JS_SUBDOMAINS = "https://*.js.stripe.com"

PERMISSIONS_POLICY = ", ".join(
    [
        # Wallets (Apple Pay, Google Pay) in Stripe's iframes use the Payment Request API.
        f'payment=(self "{STRIPE_JS}")',
        "accelerometer=()",
        "autoplay=()",
        "camera=()",
        "display-capture=()",
        "geolocation=()",
        "gyroscope=()",
        "magnetometer=()",
        "microphone=()",
        "midi=()",
        "usb=()",
    ]
)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(*, stripe_api_base: str = "") -> str:
    connect = ["'self'", "https://api.stripe.com", "https://m.stripe.network"]
    api_origin = origin_of(stripe_api_base)
    if api_origin and api_origin not in connect:
        connect.append(api_origin)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", STRIPE_JS, STRIPE_JS_SUBDOMAINS],
        "frame-src": [STRIPE_JS, STRIPE_JS_SUBDOMAINS, "https://hooks.stripe.com"],
        "connect-src": connect,
        "img-src": ["'self'", "data:", "https://*.stripe.com"],
        "style-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class SecurityHeadersMiddleware:
    """Adds CSP and Permissions-Policy to every response (pages, JSON, admin, static)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.DEBUG and response.status_code in (404, 500):
            # Django's technical error pages (DEBUG only) are built on inline
            # styles and scripts; keep them readable for the developer.
            return response
        policy = content_security_policy(stripe_api_base=settings.STRIPE_API_BASE)
        header = "Content-Security-Policy"
        if settings.CSP_REPORT_ONLY:
            header += "-Report-Only"
        response.headers.setdefault(header, policy)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
