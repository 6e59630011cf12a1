"""The cart of the visitor making a request, read at most once per request."""

from django.conf import settings
from django.http import HttpRequest

from shop.cart.selectors import NO_CART, CartState, cart_state_for_session

REQUEST_ATTRIBUTE = "_shop_cart_state"


def shopper_cart_state(request: HttpRequest) -> CartState:
    """This visitor's cart state: one query the first time, none after, none without a session cookie.

    Only a request that came with a session cookie can have a cart (a session
    started during this request is still empty). The session itself is neither
    loaded nor created: the query checks the session is live. Read before any
    change the request makes to the cart (the cart's views redirect after one).
    """
    state = getattr(request, REQUEST_ATTRIBUTE, None)
    if state is None:
        session = getattr(request, "session", None)
        if session is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
            state = NO_CART
        else:
            state = cart_state_for_session(session_key=session.session_key)
        setattr(request, REQUEST_ATTRIBUTE, state)
    return state
