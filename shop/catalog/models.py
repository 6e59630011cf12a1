import re

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from core.money import format_money

currency_validator = RegexValidator(r"^[a-z]{3}$", "Use a lowercase ISO 4217 code, e.g. usd.")
DEFAULT_STOCK = 10
COVER_PATH = re.compile(r"^[\w-]+(/[\w-]+)*\.(svg|png|jpe?g|webp)$")


def validate_cover(path: str) -> None:
    """A static image path that exists: a missing one would break every page showing it."""
    from django.contrib.staticfiles import finders

    if not COVER_PATH.match(path):
        raise ValidationError("Use an image path under static/, e.g. covers/hamming.svg.")
    if not finders.find(path):
        raise ValidationError(f"No static file {path!r}: add it under static/ first.")


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    price_amount = models.PositiveIntegerField(
        "price",
        validators=[MinValueValidator(50)],
        help_text="In minor units (cents): 2300 means $23.00; the admin shows and takes 23.00. "
        "Stripe's minimum is 50.",
    )
    currency = models.CharField(max_length=3, default="usd", validators=[currency_validator])
    cover = models.CharField(
        max_length=200,
        blank=True,
        validators=[validate_cover],
        help_text="Path of the cover image under static/, e.g. covers/hamming.svg",
    )
    is_active = models.BooleanField("active", default=True, help_text="Only active books are sold.")
    # Copies on hand, not yet promised to an order. Changed only by conditional
    # updates (shop/catalog/services.py) or by staff counting the shelf. The
    # default keeps a book added without a count sellable; staff set the real one.
    stock = models.PositiveIntegerField(
        "copies in stock",
        default=DEFAULT_STOCK,
        help_text="Copies on hand. 0 shows the book as sold out.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_amount__gte=50), name="book_price_at_least_50"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="book_currency_iso_lower"
            ),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="book_stock_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.title} — {self.author}"

    def get_absolute_url(self) -> str:
        return reverse("catalog:book_detail", kwargs={"slug": self.slug})

    @property
    def is_sold_out(self) -> bool:
        return self.stock == 0

    @property
    def price_display(self) -> str:
        return format_money(self.price_amount, self.currency)
