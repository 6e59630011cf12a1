from django.contrib.sessions.models import Session
from django.db import models

from shop.catalog.models import Book
from shop.vouchers.models import CODE_MAX_LENGTH

MAX_COPIES_PER_BOOK = 10
MAX_LINES = 20


class Cart(models.Model):
    """The books a shopper has picked, owned by their browser session.

    Keyed by the session row itself: a cart exists only once its shopper has a
    session, and goes when the session does (logout, or `clearsessions` after
    SESSION_COOKIE_AGE without a change).
    """

    session = models.OneToOneField(Session, on_delete=models.CASCADE, related_name="cart")
    # The discount code the shopper applied (normalised), checked again each time the cart is priced.
    voucher_code = models.CharField(max_length=CODE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveSmallIntegerField()
    # The book's price when the shopper last added or changed this line: the cart page says
    # when the price is no longer that one. Empty for lines from before it was kept.
    unit_amount_seen = models.PositiveIntegerField(null=True, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "book"], name="cart_line_one_per_book"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=MAX_COPIES_PER_BOOK),
                name="cart_line_quantity_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.book_id}"
