from datetime import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format, get_format
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from core.money import format_money
from shop.orders.addresses import address_lines
from shop.orders.admin_fulfilment import OrderFulfilmentMixin
from shop.orders.export import csv_streaming_response, order_line_rows, order_rows
from shop.orders.models import (
    DisputeStatus,
    FulfilmentChange,
    FulfilmentStatus,
    Order,
    OrderItem,
    OrderStatusChange,
)
from shop.orders.selectors import TO_SHIP, order_totals_for_email, orders_to_ship


class ReadOnlyInline(admin.TabularInline):
    # A plain table: no empty "original" and "delete" header cells (accessibility), no inline JS.
    template = "admin/edit_inline/readonly_tabular.html"
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OrderItemInline(ReadOnlyInline):
    model = OrderItem
    fields = ["title", "book", "unit_price", "quantity"]
    readonly_fields = fields

    @admin.display(description="unit price")
    def unit_price(self, item: OrderItem) -> str:
        return format_money(item.unit_amount, item.order.currency)


class OrderStatusChangeInline(ReadOnlyInline):
    model = OrderStatusChange
    verbose_name_plural = "status history"
    fields = ["changed_at", "from_status", "to_status", "cause"]
    readonly_fields = fields

    @admin.display(description="time")
    def changed_at(self, change: OrderStatusChange) -> str:
        return OrderAdmin.time_with_seconds(change.created_at)


# The customer view: every order from one address, however its letters were cased.
CUSTOMER_LOOKUP = "email__iexact"
VOUCHER_LOOKUP = "voucher__id__exact"


class FulfilmentChangeInline(ReadOnlyInline):
    model = FulfilmentChange
    verbose_name_plural = "fulfilment history"
    fields = ["changed_at", "from_status", "to_status", "cause"]
    readonly_fields = fields

    @admin.display(description="time")
    def changed_at(self, change: FulfilmentChange) -> str:
        return OrderAdmin.time_with_seconds(change.created_at)


class FulfilmentFilter(admin.SimpleListFilter):
    """By fulfilment status, plus "To ship": paid (or partly refunded) and not shipped yet."""

    title = "fulfilment"
    parameter_name = "fulfilment"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(TO_SHIP, "To ship (paid, unfulfilled)"), *FulfilmentStatus.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if value == TO_SHIP:
            return orders_to_ship(orders=queryset)
        if value in FulfilmentStatus.values:
            return queryset.filter(fulfilment_status=value)
        return queryset


class DisputedFilter(admin.SimpleListFilter):
    """Orders whose payment was disputed: any, or by where the dispute stands."""

    title = "disputed"
    parameter_name = "disputed"
    ANY = "any"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [
            (self.ANY, "Any dispute"),
            (DisputeStatus.OPEN, "Open"),
            (DisputeStatus.WON, "Won"),
            (DisputeStatus.LOST, "Lost"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        value = self.value()
        if value == self.ANY:
            return queryset.exclude(dispute_status=DisputeStatus.NONE)
        if value in (DisputeStatus.OPEN, DisputeStatus.WON, DisputeStatus.LOST):
            return queryset.filter(dispute_status=value)
        return queryset


@admin.register(Order)
class OrderAdmin(OrderFulfilmentMixin, admin.ModelAdmin):
    # Compact columns, so the list fits a 1280 px screen with every one visible (static/css/admin.css).
    list_display = [
        "number",
        "created",
        "customer",
        "status",
        "fulfilment",
        "total",
        "payment_intent_id",
        "review",
    ]
    list_filter = ["status", FulfilmentFilter, DisputedFilter, "needs_review", "created_at"]
    actions = ["export_csv", "export_lines_csv"]
    date_hierarchy = "created_at"
    # Staff search by what the shopper tells them: order number, email, PaymentIntent, the book.
    search_fields = [
        "number",
        "email",
        "payment_intent_id",
        "voucher_code",
        "items__title",
        "items__book__author",
    ]
    list_per_page = 50
    inlines = [OrderItemInline, OrderStatusChangeInline, FulfilmentChangeInline]
    readonly_fields = [
        "number",
        "status",
        "email",
        "total",
        "received",
        "refunded",
        "currency_code",
        "payment_intent_id",
        "failure_message",
        "created_at",
        "updated_at",
        "paid_at",
        "confirmation_sent_at",
        "fulfilment_status",
        "carrier",
        "tracking",
        "shipped_at",
        "shipped_by",
        "delivered_at",
        "shipping",
        "ship_to",
        "stock_reserved",
        "dispute_status",
        "discount",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "status",
                    "email",
                    "created_at",
                    "updated_at",
                    "paid_at",
                    "confirmation_sent_at",
                ]
            },
        ),
        ("Money", {"fields": ["total", "shipping", "discount", "received", "refunded", "currency_code"]}),
        ("Shipping", {"fields": ["ship_to", "stock_reserved"]}),
        ("Payment", {"fields": ["payment_intent_id", "failure_message"]}),
        (
            "Fulfilment",
            {
                "fields": [
                    "fulfilment_status",
                    "carrier",
                    "tracking",
                    "shipped_at",
                    "shipped_by",
                    "delivered_at",
                ]
            },
        ),
        ("Review", {"fields": ["dispute_status", "needs_review", "review_reason"]}),
    ]

    @staticmethod
    def time_with_seconds(moment: datetime | None) -> str:
        """Status changes come seconds apart: a time to the minute cannot order them."""
        if moment is None:
            return "—"
        return date_format(timezone.localtime(moment), f"{get_format('DATETIME_FORMAT')}:s")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are created by checkout only

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # money records are kept

    @admin.display(description="created", ordering="created_at")
    def created(self, order: Order) -> str:
        return date_format(timezone.localtime(order.created_at), "SHORT_DATETIME_FORMAT")

    @admin.display(description="review", ordering="needs_review")
    def review(self, order: Order) -> str:
        # A mark only where staff have something to do; a column of ✗ on every order said nothing.
        if not order.needs_review:
            return ""
        return format_html('<span class="needs-review">{}</span>', "Needs review")

    @admin.display(description="total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return order.total_display

    @admin.display(description="currency")
    def currency_code(self, order: Order) -> str:
        return order.currency.upper()

    @admin.display(description="shipping")
    def shipping(self, order: Order) -> str:
        return order.shipping_display

    @admin.display(description="discount")
    def discount(self, order: Order) -> str:
        if not order.voucher_code:
            return "—"
        held = "holds a use of it" if order.voucher_use_held else "its use given back"
        return f"−{order.discount_display} with code {order.voucher_code} ({held})"

    @admin.display(description="ship to")
    def ship_to(self, order: Order) -> str:
        lines = address_lines(order)
        if order.shipping_phone:
            lines = [*lines, f"Phone: {order.shipping_phone}"]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.display(description="amount received")
    def received(self, order: Order) -> str:
        return format_money(order.amount_received, order.currency)

    @admin.display(description="amount refunded")
    def refunded(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency)

    @admin.display(description="fulfilment", ordering="fulfilment_status")
    def fulfilment(self, order: Order) -> str:
        return order.get_fulfilment_status_display()

    @admin.display(description="email", ordering="email")
    def customer(self, order: Order) -> str:
        """The email, linking to every order from that address (the customer view)."""
        url = reverse("admin:orders_order_changelist") + "?" + urlencode({CUSTOMER_LOOKUP: order.email})
        return format_html('<a href="{}" title="All orders from {}">{}</a>', url, order.email, order.email)

    @admin.display(description="tracking")
    def tracking(self, order: Order) -> str:
        if not order.tracking_number:
            return "—"
        if not order.tracking_url:
            return order.tracking_number
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>',
            order.tracking_url,
            order.tracking_number,
        )

    # --- the list: the customer view, the "to ship" queue, the CSV export --------------------

    @classmethod
    def to_ship_query(cls) -> str:
        """The list's query string for "paid and unfulfilled, oldest first" (the admin home links it)."""
        oldest_first = str(cls.list_display.index("created") + 1)
        return urlencode({FulfilmentFilter.parameter_name: TO_SHIP, "o": oldest_first})

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The customer view, and one discount code's orders (linked from the code's admin page).
        return lookup in (CUSTOMER_LOOKUP, VOUCHER_LOOKUP) or super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = extra_context or {}
        email = request.GET.get(CUSTOMER_LOOKUP)
        if email:
            totals = order_totals_for_email(email=email)
            extra_context["customer"] = {
                "email": email,
                "orders": totals.orders,
                "totals": [format_money(amount, currency) for currency, amount in totals.paid_by_currency],
            }
        extra_context["export_url"] = reverse("admin:orders_order_export")
        extra_context["export_lines_url"] = reverse("admin:orders_order_export_lines")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        exports = [
            path("export.csv", self.admin_site.admin_view(self.export_view), name="orders_order_export"),
            path(
                "export-books.csv",
                self.admin_site.admin_view(self.export_lines_view),
                name="orders_order_export_lines",
            ),
        ]
        return [*exports, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The list as it is filtered and searched now, as CSV, one row per order (the list's button)."""
        return self._export(request, order_rows, "orders")

    def export_lines_view(self, request: HttpRequest) -> HttpResponse:
        """The same orders, one row per book (for stock work)."""
        return self._export(request, order_line_rows, "order-books")

    def _export(self, request: HttpRequest, rows, name: str) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            orders = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseBadRequest("Those filters do not apply to orders.")
        return self._csv(rows(orders=orders), name)

    @admin.action(description="Export selected orders as CSV (one row per order)", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return self._csv(order_rows(orders=queryset), "orders")

    @admin.action(description="Export selected orders' books as CSV (one row per book)", permissions=["view"])
    def export_lines_csv(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        return self._csv(order_line_rows(orders=queryset), "order-books")

    def _csv(self, rows, name: str) -> HttpResponse:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return csv_streaming_response(rows=rows, filename=f"{name}-{stamp}.csv")
