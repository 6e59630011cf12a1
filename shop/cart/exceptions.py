"""Why a cart change was refused; each message can be shown to the shopper as it is.

Stock shortages raise shop.catalog.exceptions.OutOfStock, the one exception
for "not enough copies" (the checkout raises it too).
"""

from shop.cart.models import MAX_COPIES_PER_BOOK, MAX_LINES


class CartError(Exception):
    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class QuantityNotAllowed(CartError):
    def __init__(self, title: str, in_cart: int = 0):
        message = f"You can order at most {MAX_COPIES_PER_BOOK} copies of “{title}”"
        if in_cart:
            message += f", and your cart already has {in_cart}"
        super().__init__(message + ".")


class TooManyLines(CartError):
    def __init__(self):
        super().__init__(
            f"Your cart can hold at most {MAX_LINES} different books. Remove one to add another."
        )


class BookNotForSale(CartError):
    def __init__(self, title: str | None = None):
        super().__init__(f"“{title}” is no longer for sale." if title else "That book is no longer for sale.")


class CurrencyMismatch(CartError):
    def __init__(self, title: str):
        super().__init__(
            f"“{title}” is priced in another currency than your cart. Check out your cart first."
        )


class CartEmpty(CartError):
    def __init__(self):
        super().__init__("Your cart is empty. Add a book to it before entering a discount code.")
