from django.contrib import admin

from shop.catalog.admin_filters import StockListFilter
from shop.catalog.models import Book


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "author",
        "price_amount",
        "price_display",
        "currency",
        "stock",
        "is_active",
        "updated_at",
    ]
    list_editable = ["price_amount", "is_active"]
    list_filter = ["is_active", StockListFilter, "currency"]
    search_fields = ["title", "author", "slug"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "author", "slug", "description", "cover"]}),
        ("Price", {"fields": ["price_amount", "currency"], "description": "Amounts are in cents."}),
        ("Availability", {"fields": ["is_active", "stock", "created_at", "updated_at"]}),
    ]

    @admin.display(description="price")
    def price_display(self, book: Book) -> str:
        return book.price_display
