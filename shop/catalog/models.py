import secrets
import zlib

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.text import slugify
from imagekit.models import ImageSpecField

from core.money import format_money
from shop.catalog.covers import CoverImage, CoverLarge, CoverSmall, cover_image
from shop.catalog.isbn import ISBNField, isbn_display

currency_validator = RegexValidator(r"^[a-z]{3}$", "Use a lowercase ISO 4217 code, e.g. usd.")
DEFAULT_STOCK = 10
# The years a printed book can have been published in (Gutenberg's Bible is from about 1455).
FIRST_YEAR, LAST_YEAR = 1450, 2100


def cover_upload_to(book: "Book", filename: str) -> str:
    """covers/<slug>-<random>.<ext>: a name no earlier cover had, so no sized copy of one is reused."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"covers/{slugify(book.slug)[:80] or 'book'}-{secrets.token_hex(4)}.{extension}"


class Subject(models.Model):
    """What a book is about; a book has any number of them, and each has its page of books."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("catalog:subject_detail", kwargs={"slug": self.slug})


class Book(models.Model):
    title = models.CharField(max_length=200)
    author = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    isbn = ISBNField(
        "ISBN",
        blank=True,
        help_text="ISBN-13 (or ISBN-10), hyphens allowed; stored as 13 digits. Unique when given.",
    )
    publication_year = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(FIRST_YEAR), MaxValueValidator(LAST_YEAR)]
    )
    page_count = models.PositiveIntegerField(
        "pages", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    subjects = models.ManyToManyField(Subject, related_name="books", blank=True)
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
    # PostgreSQL's full-text search (shop/catalog/search.py keeps it current); empty elsewhere.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["title"]
        # Made on PostgreSQL only (migration 0008); other databases search without it.
        indexes = [GinIndex(fields=["search_vector"], name="book_search_vector_gin")]
        constraints = [
            models.CheckConstraint(condition=models.Q(price_amount__gte=50), name="book_price_at_least_50"),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[a-z]{3}$"), name="book_currency_iso_lower"
            ),
            models.CheckConstraint(condition=models.Q(stock__gte=0), name="book_stock_not_negative"),
            models.UniqueConstraint(
                fields=["isbn"],
                condition=~models.Q(isbn=""),
                name="book_isbn_unique_when_present",
                violation_error_message="A book with this ISBN is already in the catalog.",
            ),
            models.CheckConstraint(
                condition=models.Q(isbn="") | models.Q(isbn__regex=r"^97[89][0-9]{10}$"),
                name="book_isbn_13_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(publication_year__isnull=True)
                | models.Q(publication_year__gte=FIRST_YEAR, publication_year__lte=LAST_YEAR),
                name="book_publication_year_plausible",
            ),
            models.CheckConstraint(
                condition=models.Q(page_count__isnull=True) | models.Q(page_count__gte=1),
                name="book_page_count_positive",
            ),
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
    def isbn_display(self) -> str:
        return isbn_display(self.isbn)

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
