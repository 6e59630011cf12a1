"""Stripe's deliveries handed to the webhook view before the middleware stack, with the stack's headers.

A delivery needs nothing the stack does for shoppers and staff: no session,
no CSRF check (Stripe signs the body instead, and the view is exempt), no
user, no flash messages, no static files. Yet the stack was about a quarter
of a webhook request's time in-process, and a burst of deliveries is the
shop's busiest traffic. So this middleware (first in MIDDLEWARE, with the
kept pages) passes the first delivery of each process (per scheme) the
whole way and keeps the headers the stack gave its answer (HSTS, nosniff,
Referrer-Policy, Cross-Origin-Opener-Policy, Content-Security-Policy,
Permissions-Policy, X-Frame-Options). It then hands each later POST to the
webhook's path straight to the view and adds those headers, any the view
did not set itself, and the length: the same answer, without the work.

Still the usual way: another method (the view's 405, through the stack), a
plain-HTTP request Django redirects to HTTPS, and a host not in
ALLOWED_HOSTS (Django's 400). An exception the view lets out becomes
Django's 500 here as it would in the stack, with the same headers.
"""

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix, reverse

from payments.views import stripe_webhook

# The answer's own, not the stack's: counted again for each answer.
RECOMPUTED_HEADERS = frozenset(["content-length"])


class WebhookFirstMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.webhook = convert_exception_to_response(stripe_webhook)
        self.path_info: str | None = None
        # Per scheme: HSTS, for one, is only sent over HTTPS.
        self.stack_headers: dict[str, tuple[tuple[str, str], ...]] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self._is_delivery(request):
            return self.get_response(request)
        stack_headers = self.stack_headers.get(request.scheme)
        if stack_headers is None:
            response = self.get_response(request)
            self.stack_headers[request.scheme] = tuple(
                (name, value) for name, value in response.items() if name.lower() not in RECOMPUTED_HEADERS
            )
            return response
        response = self.webhook(request)
        for name, value in stack_headers:
            if name not in response:
                response[name] = value
        response["Content-Length"] = str(len(response.content))
        return response

    def _is_delivery(self, request: HttpRequest) -> bool:
        if request.method != "POST" or request.path_info != self._webhook_path_info():
            return False
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return False  # SecurityMiddleware redirects it
        try:
            request.get_host()
        except DisallowedHost:
            return False  # the usual way answers 400
        return True

    def _webhook_path_info(self) -> str:
        if self.path_info is None:
            self.path_info = "/" + reverse("payments:webhook").removeprefix(get_script_prefix())
        return self.path_info
