"""Kept pages for blank visitors, answered before Django's request handler (config/wsgi.py).

KeptPageMiddleware (shop/pagecache_middleware.py) answers a page kept as it
is — the catalog, a book, a checkout page, the same for every visitor with
no session and no flash messages but for the CSRF token — from the top of
the middleware stack. Around it Django's handler still builds the request,
sends request_started and request_finished (which check the database
connections and close the caches), and finishes the response: about half
of such a request's time in the process.

This WSGI wrapper answers the same page before all of that, for a request
whose raw scheme, host and path inputs are ones Django has already answered
with that page (`kept_as_is_for_environ`): the host was allowed, the scheme
needed no redirect, the path resolved to it. It sends the same bytes and
headers the middleware would, with the visitor's CSRF secret (from its
cookie, or a new one) masked into the page and the cookie Django's CSRF
middleware would send (shop/csrf_tokens.py). The page is as fresh as the
middleware's: the pages version is read on every request.

Anything else goes to Django unchanged: another method, a session or
messages cookie, a CSRF cookie Django would have to read itself (not a
secret as it writes them now), inputs not yet answered with a kept page,
a pages version that cannot be read or is new, PAGE_CACHE off.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http.cookie import parse_cookie
from django.middleware.csrf import CSRF_SECRET_LENGTH

from shop.csrf_tokens import csrf_cookie_header, masked, random_chars, secret_well_formed
from shop.pagecache_middleware import ENVIRON_KEY, environ_key, kept_as_is_for_environ

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class KeptPageFront:
    def __init__(self, application: WSGIApp):
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or not settings.PAGE_CACHE or settings.CSRF_USE_SESSIONS:
            return self.application(environ, start_response)
        blank, secret = _blank_visitors_csrf_secret(environ.get("HTTP_COOKIE", ""))
        if not blank:
            return self.application(environ, start_response)
        inputs = environ_key(environ)
        kept = kept_as_is_for_environ(inputs)
        if kept is None:
            environ[ENVIRON_KEY] = inputs  # the middleware remembers them if it answers a kept page
            return self.application(environ, start_response)
        secret = secret or random_chars(CSRF_SECRET_LENGTH)  # a new visitor's, as get_token makes it
        body, headers = kept.filled(masked(secret).encode())
        headers.append(("Set-Cookie", csrf_cookie_header(secret)))
        start_response("200 OK", headers)
        return [body]


def _blank_visitors_csrf_secret(cookie_header: str) -> tuple[bool, str | None]:
    """Whether the front may answer this visitor, and the CSRF secret of their cookie (None: none yet).

    Not a visitor for the front: one with a session or flash messages, or with
    a CSRF cookie only Django's middleware should read.
    """
    if not cookie_header:
        return True, None
    cookies = parse_cookie(cookie_header)
    if cookies.get(settings.SESSION_COOKIE_NAME) or cookies.get(CookieStorage.cookie_name):
        return False, None
    secret = cookies.get(settings.CSRF_COOKIE_NAME)
    if secret is None:
        return True, None
    return secret_well_formed(secret), secret
