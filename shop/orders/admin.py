from datetime import datetime

from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from shop.money import format_money
from shop.orders.models import Order, OrderItem, OrderStatusChange


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


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    # Compact columns, so the list fits a 1280 px screen with every one visible (static/css/admin.css).
    list_display = ["number", "created", "email", "status", "total", "payment_intent_id", "review"]
    list_filter = ["status", "needs_review", "created_at"]
    date_hierarchy = "created_at"
    # Staff search by what the shopper tells them: order number, email, PaymentIntent, the book.
    search_fields = ["number", "email", "payment_intent_id", "items__title", "items__book__author"]
    list_per_page = 50
    inlines = [OrderItemInline, OrderStatusChangeInline]
    readonly_fields = [
        "number",
        "status",
        "email",
        "total",
        "received",
        "refunded",
        "currency",
        "payment_intent_id",
        "failure_message",
        "created_at",
        "updated_at",
        "paid_at",
        "confirmation_sent_at",
        "shipping",
        "ship_to",
        "stock_reserved",
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
        ("Money", {"fields": ["total", "shipping", "received", "refunded", "currency"]}),
        ("Shipping", {"fields": ["ship_to", "stock_reserved"]}),
        ("Payment", {"fields": ["payment_intent_id", "failure_message"]}),
        ("Review", {"fields": ["needs_review", "review_reason"]}),
    ]

    @staticmethod
    def time_with_seconds(moment: datetime | None) -> str:
        """Status changes come seconds apart: a time to the minute cannot order them."""
        if moment is None:
            return "—"
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are created by checkout only

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # money records are kept

    @admin.display(description="created", ordering="created_at")
    def created(self, order: Order) -> str:
        return timezone.localtime(order.created_at).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="review", boolean=True, ordering="needs_review")
    def review(self, order: Order) -> bool:
        return order.needs_review

    @admin.display(description="total", ordering="total_amount")
    def total(self, order: Order) -> str:
        return order.total_display

    @admin.display(description="shipping")
    def shipping(self, order: Order) -> str:
        return order.shipping_display

    @admin.display(description="ship to")
    def ship_to(self, order: Order) -> str:
        lines = order.shipping_address_lines
        if order.shipping_phone:
            lines = [*lines, f"Phone: {order.shipping_phone}"]
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines)) or "—"

    @admin.display(description="amount received")
    def received(self, order: Order) -> str:
        return format_money(order.amount_received, order.currency)

    @admin.display(description="amount refunded")
    def refunded(self, order: Order) -> str:
        return format_money(order.amount_refunded, order.currency)
