"""The cart of the visitor making a request: read at most once per request, and
remembered between requests until any cart or session changes.

Every page a shopper opens shows their cart (at least the header's count), so
its state is read on every request. Each process remembers the states it read,
per *carts version* (shop/pagecache_version.py, like the pages version): one
number that every change to a cart's lines (shop/cart/services.py) and every
save or deletion of a session (a new key, a sign-out, `clearsessions`) bumps,
right away and again at commit. A request that finds its session's state
remembered under the current version, and the session not expired since, costs
no query; any change anywhere makes every process read again once per session.

Only with PAGE_CACHE on, whose shared version store every process sees; off
(the development default), every request reads its cart.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from shop.cart.selectors import NO_CART, CartState, cart_state_for_session
from shop.pagecache import Pages, version_changed, version_read

REQUEST_ATTRIBUTE = "_shop_cart_state"
CARTS = "carts"
MIN_SESSION_KEY_LENGTH = 8  # shorter cookies are no session key (Django's own check)

_remembered = Pages(max_pages=10_000)  # session key -> CartState, per carts version


def shopper_cart_state(request: HttpRequest) -> CartState:
    """This visitor's cart state: from memory, or one query; none without a session cookie.

    Only a request that came with a session cookie can have a cart (a session
    started during this request is still empty). The session itself is neither
    loaded nor created: the query checks the session is live. Read before any
    change the request makes to the cart (the cart's views redirect after one).
    """
    state = getattr(request, REQUEST_ATTRIBUTE, None)
    if state is None:
        session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
        state = session_cart_state(session_key) if len(session_key) >= MIN_SESSION_KEY_LENGTH else NO_CART
        setattr(request, REQUEST_ATTRIBUTE, state)
    return state


def session_cart_state(session_key: str) -> CartState:
    """The state of this session's cart as of the current carts version (the query when not remembered)."""
    version = version_read(CARTS) if settings.PAGE_CACHE else None
    if version is not None:
        state = _remembered.get(version, session_key)
        if state is not None and (state.session_expires is None or timezone.now() < state.session_expires):
            return state
    state = cart_state_for_session(session_key=session_key)
    if version is not None:
        _remembered.put(version, session_key, state)
    return state


def carts_changed(**_signal) -> None:
    """A cart or session changed: every process reads each session's cart again."""
    version_changed(CARTS)
