"""Security headers: Permissions-Policy (neither Django nor django-csp sets it), and a faster django-csp.

Content-Security-Policy comes from django-csp (CONTENT_SECURITY_POLICY in
config/settings.py; Stripe's origins only on the checkout page, see
payments/csp.py), through PolicyOncePerProcessCSPMiddleware below. HSTS, nosniff, Referrer-Policy and
Cross-Origin-Opener-Policy come from SecurityMiddleware, X-Frame-Options
from XFrameOptionsMiddleware.
"""

from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
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


class PolicyOncePerProcessCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, building each distinct Content-Security-Policy once per process.

    django-csp builds the header string from the settings and a view's
    csp_update/csp_replace/csp_exempt on every response, about a tenth of a
    webhook request's time. Without a nonce (this shop uses none) the string
    depends on those alone, so it is kept per distinct set of them and
    forgotten when the settings change. With a nonce, django-csp does it all.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        key = self._policy_key(request, response)
        built = _policies_built.get(key)
        if built is None:
            response = super().process_response(request, response)
            _policies_built[key] = (response.get(HEADER), response.get(HEADER_REPORT_ONLY))
            return response
        for header, value in zip((HEADER, HEADER_REPORT_ONLY), built, strict=True):
            if value is not None and header not in response:
                response[header] = value
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

    @staticmethod
    def _policy_key(request: HttpRequest, response: HttpResponse) -> tuple:
        excluded = []
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"):
            prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            excluded.append(bool(prefixes) and request.path_info.startswith(tuple(prefixes)))
        return (
            *(_frozen(getattr(response, attribute, None)) for attribute in CSP_RESPONSE_ATTRIBUTES),
            *excluded,
            response.status_code in (500, 404) and settings.DEBUG,
            response.has_header(HEADER),
            response.has_header(HEADER_REPORT_ONLY),
        )


# What django-csp's decorators leave on a response (csp.decorators).
CSP_RESPONSE_ATTRIBUTES = [
    f"_csp_{kind}{mode}" for kind in ("config", "update", "replace", "exempt") for mode in ("", "_ro")
]
_policies_built: dict[tuple, tuple[str | None, str | None]] = {}


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return (type(value).__name__, *(_frozen(item) for item in value))
    return value


@receiver(setting_changed)
def _policies_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _policies_built.clear()
