import secrets
import zlib

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.text import slugify
from imagekit.models import ImageSpecField

from core.money import format_money
from shop.catalog.covers import CoverImage, CoverLarge, CoverSmall, cover_image

currency_validator = RegexValidator(r"^[a-z]{3}$", "Use a lowercase ISO 4217 code, e.g. usd.")
DEFAULT_STOCK = 10


def cover_upload_to(book: "Book", filename: str) -> str:
    """covers/<slug>-<random>.<ext>: a name no earlier cover had, so no sized copy of one is reused."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"covers/{slugify(book.slug)[:80] or 'book'}-{secrets.token_hex(4)}.{extension}"


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
    # Checked and stripped of its metadata by the admin form (shop/catalog/covers.py); the
    # size is stored with it so a page never opens the file to draw its <img>.
    cover = models.ImageField(
        upload_to=cover_upload_to,
        max_length=255,
        blank=True,
        width_field="cover_width",
        height_field="cover_height",
        help_text="A JPEG, PNG or WebP at least 300 pixels wide, at most 10 MB. "
        "Without one, the shop shows a cover drawn from the title and author.",
    )
    cover_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    cover_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    cover_small = ImageSpecField(source="cover", spec=CoverSmall)
    cover_large = ImageSpecField(source="cover", spec=CoverLarge)
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

    @property
    def cover_tone(self) -> int:
        """Which of the placeholder's five colours a book without a cover gets (the same every time)."""
        return zlib.crc32(self.slug.encode()) % 5 + 1

    @property
    def cover_image(self) -> CoverImage | None:
        """The cover's <img> values (sized WebP copies), or None: the page draws a placeholder."""
        if not self.cover:
            return None
        return cover_image(
            small_url=self.cover_small.url,
            large_url=self.cover_large.url,
            width=self.cover_width,
            height=self.cover_height,
        )
