from django.http import HttpRequest

from shop.cart.shopper import shopper_cart_state


def cart(request: HttpRequest) -> dict:
    """`cart_item_count` for the header, read on first use (shop/cart/shopper.py: at most one query).

    A view that already knows the count passes its own `cart_item_count`, which wins.
    """
    return {"cart_item_count": lambda: shopper_cart_state(request).item_count}
