"""Permissions-Policy on every response: neither Django nor django-csp sets it.

Content-Security-Policy comes from django-csp's middleware
(CONTENT_SECURITY_POLICY in config/settings.py; Stripe's origins only on the
checkout pages, see payments/csp.py). HSTS, nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy come from SecurityMiddleware, X-Frame-Options
from XFrameOptionsMiddleware.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

PERMISSIONS_POLICY = ", ".join(
    [
        # Wallets (Apple Pay, Google Pay) in Stripe's iframes use the Payment Request API.
        'payment=(self "https://js.stripe.com")',
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


class PermissionsPolicyMiddleware:
    """Adds Permissions-Policy to every response (pages, JSON, admin, static)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
