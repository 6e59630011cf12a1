from functools import cache, partial

from django.conf import settings
from django.http import HttpRequest

from shop.cart.selectors import cart_item_count_for_session


def cart(request: HttpRequest) -> dict:
    """`cart_item_count` for the header: counted on first use, at most one query.

    Only a request that came with a session cookie can have a cart (a session
    started during this request, like the checkout page's, is still empty), so
    without the cookie it costs nothing. The session itself is neither loaded
    nor created: the count query checks the session is live. A view that
    already knows the count passes its own `cart_item_count`, which wins.
    """
    session = getattr(request, "session", None)
    if session is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return {"cart_item_count": 0}
    return {"cart_item_count": cache(partial(cart_item_count_for_session, session_key=session.session_key))}
