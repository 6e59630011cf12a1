from django.conf import settings
from django.http import HttpRequest

from shop.cart.selectors import cart_item_count


def cart(request: HttpRequest) -> dict:
    """`cart_item_count` for the header: one query for a visitor with a session cookie, none without.

    Read from the cookie's session key: the session itself is not loaded, and a
    session started by this very request has no cart yet.
    """
    return {"cart_item_count": cart_item_count(session_key=request.COOKIES.get(settings.SESSION_COOKIE_NAME))}
