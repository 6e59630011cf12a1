from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, XLSX

from shop.catalog.admin_filters import StockListFilter
from shop.catalog.forms import BookAdminForm, BookListForm
from shop.catalog.isbn import isbn_normalise
from shop.catalog.models import Book, Subject
from shop.catalog.resources import BookResource


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "book_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(book_count=Count("books"))

    @admin.display(description="books", ordering="book_count")
    def book_count(self, subject: Subject) -> int:
        return subject.book_count


@admin.register(Book)
class BookAdmin(ImportExportModelAdmin):
    form = BookAdminForm
    # Import and export (shop/catalog/resources.py): CSV and XLSX, a preview before writing.
    resource_classes = [BookResource]
    import_formats = [CSV, XLSX]
    export_formats = [CSV, XLSX]
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
    list_filter = ["is_active", StockListFilter, "subjects", "currency"]
    search_fields = ["title", "author", "slug", "isbn"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["created_at", "updated_at"]
    autocomplete_fields = ["subjects"]
    fieldsets = [
        (None, {"fields": ["title", "author", "slug", "description", "cover"]}),
        ("Publication", {"fields": ["isbn", "publication_year", "page_count", "subjects"]}),
        ("Price", {"fields": ["price_amount", "currency"]}),
        ("Availability", {"fields": ["is_active", "stock", "created_at", "updated_at"]}),
    ]

    def get_changelist_form(self, request, **kwargs):
        # The list's price column is edited in dollars too.
        return super().get_changelist_form(request, form=BookListForm, **kwargs)

    @admin.display(description="currency", ordering="currency")
    def currency_code(self, book: Book) -> str:
        return book.currency.upper()

    def has_import_permission(self, request) -> bool:
        # An import adds books and changes books: staff need both permissions.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_export_queryset(self, request):
        return super().get_export_queryset(request).prefetch_related("subjects")

    def get_search_results(self, request, queryset, search_term):
        # An ISBN as printed on a book (hyphens, or an ISBN-10) finds the book stored as 13 digits.
        try:
            isbn = isbn_normalise(search_term)
        except ValidationError:
            isbn = ""
        if isbn:
            return queryset.filter(isbn=isbn), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="shown as")
    def price_display(self, book: Book) -> str:
        return book.price_display
