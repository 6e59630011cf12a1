from functools import cache, partial

from django.http import HttpRequest

from shop.cart.selectors import cart_item_count_for_session


def cart(request: HttpRequest) -> dict:
    """`cart_item_count` for the header: counted on first use, at most one query.

    It reads the session key (the cookie's value) without loading or creating a
    session: without a cookie it costs nothing. A view that already knows the
    count passes its own `cart_item_count`, which wins.
    """
    session_key = request.session.session_key if hasattr(request, "session") else None
    return {"cart_item_count": cache(partial(cart_item_count_for_session, session_key=session_key))}
