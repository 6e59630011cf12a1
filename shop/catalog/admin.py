from django.contrib import admin

from shop.catalog.admin_filters import StockListFilter
from shop.catalog.forms import BookAdminForm, BookListForm
from shop.catalog.models import Book


@admin.register(Book)
class BookAdmin(admin.ModelAdmin):
    form = BookAdminForm
    list_display = [
        "title",
        "author",
        "price_amount",
        "price_display",
        "currency_code",
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
        ("Price", {"fields": ["price_amount", "currency"]}),
        ("Availability", {"fields": ["is_active", "stock", "created_at", "updated_at"]}),
    ]

    def get_changelist_form(self, request, **kwargs):
        # The list's price column is edited in dollars too.
        return super().get_changelist_form(request, form=BookListForm, **kwargs)

    @admin.display(description="currency", ordering="currency")
    def currency_code(self, book: Book) -> str:
        return book.currency.upper()

    @admin.display(description="shown as")
    def price_display(self, book: Book) -> str:
        return book.price_display
