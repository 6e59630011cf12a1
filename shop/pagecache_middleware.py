"""Kept pages answered before the middleware stack, for visitors with nothing of their own yet.

A visitor without a session cookie and without flash messages sees a kept
page (shop/pagecache.py) exactly as every other such visitor does, but for
the CSRF token of its forms: an empty cart, no messages, nothing bought, not
signed in. The first such request of a pages version goes all the way
through the middleware stack and the view; this middleware, first in
MIDDLEWARE, keeps what came out — the body split at the CSRF token and
every header (HSTS, CSP, Permissions-Policy, X-Frame-Options, Vary,
Cache-Control, …) — and answers the next such requests itself: the same
bytes and the same headers, with this visitor's CSRF token (shop/csrf_tokens.py) and the
cookie from Django's own CSRF middleware. Freshness is pagecache's: a response is kept per pages version
and the version is read on every request.

Everything else — a visitor with a session (a cart, staff), a flash message
to show, a request Django would redirect to HTTPS, another method, a path
that is not a kept page — takes the usual way.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import http_date

from shop import pagecache
from shop.csrf_tokens import csrf_token

# Headers of the kept response not replayed as they were: the length is
# counted again, a never-cache "Expires: now" is dated again.
RECOMPUTED_HEADERS = frozenset(["content-length", "expires"])


@dataclass(frozen=True)
class KeptResponse:
    parts: tuple[bytes | None, ...]  # None where this visitor's CSRF token goes
    headers: tuple[tuple[str, str], ...]
    expires: bool


# This process's kept answers (per pages version), and the keys that were kept pages in any
# version: only those cost a version read, not static files or other pages.
_kept = pagecache.Pages()
_known: set[tuple] = set()


def visitor_is_blank(request: HttpRequest) -> bool:
    """No session (so no cart, no sign-in, nothing bought) and no flash messages to show."""
    cookies = request.COOKIES
    return settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies


class KeptPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is None:
            return self.get_response(request)
        version = None
        if key in _known:
            version = pagecache.pages_version()
            kept = _kept.get(version, key) if version is not None else None
            if kept is not None:
                return self._answer(request, kept)
        request.page_keep = pagecache.PageKeep(version=version)
        response = self.get_response(request)
        self._keep(key, request.page_keep, response)
        return response

    def _key(self, request: HttpRequest) -> tuple | None:
        if not settings.PAGE_CACHE or request.method != "GET" or not visitor_is_blank(request):
            return None
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware redirects it
        try:
            return (request.scheme, request.get_host(), request.path)
        except DisallowedHost:
            return None  # the usual way answers 400

    def _keep(self, key: tuple, keep: "pagecache.PageKeep", response: HttpResponse) -> None:
        if keep.parts is None or response.status_code != 200 or response.streaming:
            return
        if set(response.cookies) - {settings.CSRF_COOKIE_NAME}:
            return  # something of this visitor's own was started after all
        headers = tuple(
            (name, value) for name, value in response.items() if name.lower() not in RECOMPUTED_HEADERS
        )
        kept = KeptResponse(parts=keep.parts, headers=headers, expires=response.has_header("Expires"))
        if len(_known) >= pagecache.MAX_PAGES:
            _known.clear()
        _known.add(key)
        _kept.put(keep.version, key, kept)

    def _answer(self, request: HttpRequest, kept: KeptResponse) -> HttpResponse:
        self.csrf.process_request(request)
        token = csrf_token(request).encode()
        body = b"".join(token if part is None else part for part in kept.parts)
        response = HttpResponse(body, headers=dict(kept.headers))
        response.headers["Content-Length"] = str(len(body))
        if kept.expires:
            response.headers["Expires"] = http_date()
        return self.csrf.process_response(request, response)
