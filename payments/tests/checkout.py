"""Create-intent request bodies for tests: the address and total a shopper's browser sends."""

from shop.cart.pricing import totals_compute
from shop.catalog.models import Book

SHIPPING = {
    "name": "Ada Lovelace",
    "phone": "+44 20 7946 0000",
    "address": {
        "line1": "12 St James's Square",
        "line2": "Flat 3",
        "city": "London",
        "state": "",
        "postal_code": "SW1Y 4JH",
        "country": "GB",
    },
}


def total_for(lines: list[tuple[Book, int]]) -> int:
    return totals_compute(lines=[(book.price_amount, quantity) for book, quantity in lines]).total_amount


def one_book_body(book: Book, email: str, **extra) -> dict:
    """`{"book", "email", "shipping", "expected_total"}` for buying one copy now."""
    return {
        "book": book.slug,
        "email": email,
        "shipping": SHIPPING,
        "expected_total": total_for([(book, 1)]),
    } | extra


def cart_body(lines: list[tuple[Book, int]], email: str, **extra) -> dict:
    """The body for checking out a cart holding `lines`."""
    return {"email": email, "shipping": SHIPPING, "expected_total": total_for(lines)} | extra
