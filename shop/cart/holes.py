"""What the cart's per-visitor parts of kept pages read (`{% page_hole %}`, shop/pagecache.py)."""

from django.contrib.messages import get_messages
from django.http import HttpRequest

from shop.cart.shopper import shopper_cart_state
from shop.pagecache import page_hole_context


@page_hole_context("cart/_header_link.html")
def header_link_context(request: HttpRequest) -> dict:
    return {"cart_item_count": shopper_cart_state(request).item_count}


@page_hole_context("cart/_messages.html")
def messages_context(request: HttpRequest) -> dict:
    # Read (and so used up, as on any page showing them); none is the common, memoised case.
    return {"messages": tuple(get_messages(request))}
