"""Kept pages answered before the middleware stack, for visitors with no flash messages to show.

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

A shopper (a session cookie, no flash messages) is answered the same way
where the page showed nothing of theirs but their cart, whose state is read
here (`shopper_cart_state`: remembered per carts version, else one query
that also checks the session is live):

- a page the same for everyone but its header's cart count (the catalog, a
  book) is kept per pages version and count;
- a page of the cart itself (the cart, its checkout: `page_render(state=)`
  with the cart's state) per pages version and cart state (its id and
  revision: only that cart's session finds it, and any change to it is a
  page not kept yet).

A page of one thing's state that its view can read before it runs (the order
page and receipt: the view's `page_state`, which refuses a client over the
rate limit, checks the link's key and reads the order's row version, the limit
decided once per request whoever asks first) is kept per pages version and that state, and answered
here to a visitor whose request reads the same state.

Only a response that did not touch the session's data is kept for shoppers:
anything read from it (the signed-in user, orders paid in this session)
marks it accessed, so such a page always takes the usual way. Flash messages
live in their cookie (the session holds some only when the cookie says so),
so a request without that cookie has none to show.

Everything else — a flash message to show, a request Django would redirect
to HTTPS, another method, a path that is not a kept page — takes the usual way.

A blank visitor's page kept as it is is answered one step earlier still,
before Django's handler, by shop/pagecache_front.py: this middleware
remembers the raw inputs the front read for each request it answered with
such a page (ENVIRON_KEY), and the front answers the same inputs from then on.
"""

from collections.abc import Callable, Hashable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import http_date

from shop import pagecache
from shop.cart.selectors import CartState
from shop.cart.shopper import shopper_cart_state
from shop.csrf_tokens import csrf_token

# Headers of the kept response not replayed as they were: the length is
# counted again, a never-cache "Expires: now" is dated again.
RECOMPUTED_HEADERS = frozenset(["content-length", "expires"])


@dataclass(frozen=True)
class KeptResponse:
    parts: tuple[bytes | None, ...]  # None where this visitor's CSRF token goes
    headers: tuple[tuple[str, str], ...]
    expires: bool

    def filled(self, token: bytes) -> tuple[bytes, list[tuple[str, str]]]:
        """The body with this visitor's CSRF token, and the headers with its length and a fresh Expires."""
        body = b"".join(token if part is None else part for part in self.parts)
        headers = [*self.headers, ("Content-Length", str(len(body)))]
        if self.expires:
            headers.append(("Expires", http_date()))
        return body, headers


# How a shopper's answer of a kept page is keyed besides the page: by the cart's item count
# (a page the same for everyone but that) or by the whole cart state (a page of the cart).
BY_COUNT, BY_CART = "count", "cart"
# A blank visitor's kept page as it is (the same for all of them).
AS_IS = "as is"

# This process's kept answers (per pages version): pages as they are, and pages per state (a
# shopper's cart, an order); and the keys that were kept pages in any version, with how they are
# keyed: only those cost a version read (and a state read), not static files or other pages.
_kept = pagecache.Pages()
_kept_per_state = pagecache.Pages(
    max_pages=10_000,
    max_bytes=pagecache.SHOPPER_PAGES_MAX_BYTES,
    size_of=lambda kept: sum(len(part) for part in kept.parts if part is not None),
)
_known: dict[tuple, object] = {}  # AS_IS, or (the view's page_state, its URL arguments)
_known_for_shoppers: dict[tuple, str] = {}  # BY_COUNT or BY_CART
# Requests' raw inputs (`environ_key`) that Django has answered with a page kept as it is, and
# that page's key: the same inputs are the same checks passed, for shop/pagecache_front.py.
_known_as_is_by_environ: dict[tuple, tuple] = {}
# Where shop/pagecache_front.py leaves a request's `environ_key`, read before Django rewrote
# SCRIPT_NAME and PATH_INFO in the environ.
ENVIRON_KEY = "shop.pagecache.environ_key"

# What Django's scheme, host and path are made of, besides settings (HttpRequest.scheme and
# get_host, WSGIRequest's path): requests equal in all of these are checked and routed alike.
ENVIRON_KEY_NAMES = (
    "wsgi.url_scheme",
    "HTTP_HOST",
    "SERVER_NAME",
    "SERVER_PORT",
    "SCRIPT_NAME",
    "SCRIPT_URL",
    "REDIRECT_URL",
    "PATH_INFO",
)


def environ_key(environ: dict) -> tuple:
    """The request's raw scheme, host and path inputs, and the proxy headers Django is set to trust.

    Headers Django ignores are left out, so varying them makes no new key.
    """
    proxy_header = settings.SECURE_PROXY_SSL_HEADER
    return (
        *map(environ.get, ENVIRON_KEY_NAMES),
        environ.get(proxy_header[0]) if proxy_header else None,
        environ.get("HTTP_X_FORWARDED_HOST") if settings.USE_X_FORWARDED_HOST else None,
        environ.get("HTTP_X_FORWARDED_PORT") if settings.USE_X_FORWARDED_PORT else None,
    )


def kept_as_is_for_environ(environ_key: tuple) -> KeptResponse | None:
    """The page kept as it is (current pages version) for a blank visitor's request with these inputs.

    Only inputs Django has answered with that page before are found: their
    host was allowed, their scheme needed no redirect, their path is that page.
    """
    key = _known_as_is_by_environ.get(environ_key)
    if key is None:
        return None
    version = pagecache.pages_version()
    return _kept.get(version, key) if version is not None else None


class KeptPageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = self._key(request)
        if key is None:
            return self.get_response(request)
        if request.COOKIES.get(settings.SESSION_COOKIE_NAME):
            return self._for_shopper(request, key)
        return self._for_blank_visitor(request, key)

    def _for_blank_visitor(self, request: HttpRequest, key: tuple) -> HttpResponse:
        version = None
        keyed_by = _known.get(key)
        if keyed_by is not None:
            version = pagecache.pages_version()
            kept = self._kept_for_blank_visitor(request, key, keyed_by, version)
            if kept is not None:
                if keyed_by is AS_IS:
                    _remember_environ(request, key)
                return self._answer(request, kept)
        request.page_keep = keep = pagecache.PageKeep(version=version)
        response = self.get_response(request)
        if not _keepable(keep, response):
            return response
        if keep.state is None:
            _remember(_known, key, AS_IS)
            _remember_environ(request, key)
            _kept.put(keep.version, key, _kept_response(keep, response))
            return response
        match = getattr(request, "resolver_match", None)
        page_state = getattr(match.func, "page_state", None) if match else None
        if page_state is not None:  # the view can say what the page shows before it runs
            _remember(_known, key, (page_state, match.kwargs))
            _kept_per_state.put(keep.version, (key, keep.state), _kept_response(keep, response))
        return response

    @staticmethod
    def _kept_for_blank_visitor(request: HttpRequest, key: tuple, keyed_by, version: int | None):
        if version is None:
            return None
        if keyed_by is AS_IS:
            return _kept.get(version, key)
        page_state, kwargs = keyed_by
        state = page_state(request, **kwargs)  # checks, counts and reads as the view does
        return _kept_per_state.get(version, (key, state)) if state is not None else None

    def _for_shopper(self, request: HttpRequest, key: tuple) -> HttpResponse:
        version = None
        keyed_by = _known_for_shoppers.get(key)
        if keyed_by is not None:
            version = pagecache.pages_version()
            cart = shopper_cart_state(request)  # kept on the request: the view reads it from there on a miss
            kept = _kept_per_state.get(version, (key, _by(keyed_by, cart))) if version is not None else None
            if kept is not None:
                return self._answer(request, kept)
        request.page_keep = keep = pagecache.PageKeep(version=version)
        response = self.get_response(request)
        if getattr(request, "session", None) is None or request.session.accessed:
            return response  # something of the session's own may be on the page
        if not _keepable(keep, response):
            return response
        cart = shopper_cart_state(request)  # read by the page already, or one query now
        if keep.state is None:
            keyed_by = BY_COUNT
        elif keep.state == cart:
            keyed_by = BY_CART
        else:
            return response  # a page of something else's state (an order): only its view can check it
        _remember(_known_for_shoppers, key, keyed_by)
        _kept_per_state.put(keep.version, (key, _by(keyed_by, cart)), _kept_response(keep, response))
        return response

    def _key(self, request: HttpRequest) -> tuple | None:
        if not settings.PAGE_CACHE or request.method != "GET":
            return None
        if request.COOKIES.get(CookieStorage.cookie_name):
            return None  # flash messages to show (an emptied cookie holds none)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return None  # SecurityMiddleware redirects it
        try:
            return (request.scheme, request.get_host(), request.path)
        except DisallowedHost:
            return None  # the usual way answers 400

    def _answer(self, request: HttpRequest, kept: KeptResponse) -> HttpResponse:
        self.csrf.process_request(request)
        body, headers = kept.filled(csrf_token(request).encode())
        response = HttpResponse(body, headers=dict(headers))
        return self.csrf.process_response(request, response)


def _keepable(keep: pagecache.PageKeep, response: HttpResponse) -> bool:
    """A kept page, answered in full, that started nothing of this visitor's own but a CSRF cookie."""
    if keep.parts is None or response.status_code != 200 or response.streaming:
        return False
    return not set(response.cookies) - {settings.CSRF_COOKIE_NAME}


def _kept_response(keep: pagecache.PageKeep, response: HttpResponse) -> KeptResponse:
    headers = tuple(
        (name, value) for name, value in response.items() if name.lower() not in RECOMPUTED_HEADERS
    )
    return KeptResponse(parts=keep.parts, headers=headers, expires=response.has_header("Expires"))


def _remember(known: dict[tuple, object], key: tuple, keyed_by: object) -> None:
    if known.get(key) == keyed_by:
        return
    if len(known) >= pagecache.MAX_PAGES:
        known.clear()
    known[key] = keyed_by


def _remember_environ(request: HttpRequest, key: tuple) -> None:
    """The raw inputs the front read for this request (none without the front) answer `key` from now on."""
    raw = request.META.get(ENVIRON_KEY)
    if raw is not None:
        _remember(_known_as_is_by_environ, raw, key)


def _by(keyed_by: str, cart: CartState) -> Hashable:
    return cart.item_count if keyed_by == BY_COUNT else cart
