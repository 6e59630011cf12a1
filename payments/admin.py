import json

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from payments.admin_refunds import OrderRefundMixin, RefundInline
from payments.models import WebhookEvent
from payments.stripe_client import stripe_dashboard_url
from shop.orders.admin import OrderAdmin, ReadOnlyInline
from shop.orders.models import Order


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = [
        "stripe_event_id",
        "type",
        "outcome",
        "order_link",
        "payment_intent_id",
        "received_at",
        "attempts",
    ]
    list_filter = ["type", "outcome", "livemode"]
    search_fields = ["stripe_event_id", "payment_intent_id", "order__number"]
    date_hierarchy = "received_at"
    list_select_related = ["order"]
    fields = [
        "stripe_event_id",
        "type",
        "livemode",
        "outcome",
        "order_link",
        "payment_intent_id",
        "received_at",
        "processed_at",
        "attempts",
        "note",
        "error",
        "pretty_payload",
    ]
    readonly_fields = fields

    class Media:
        css = {"all": ["css/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="order", ordering="order__number")
    def order_link(self, event: WebhookEvent) -> str:
        if event.order_id is None:
            return "—"
        url = reverse("admin:orders_order_change", args=[event.order_id])
        return format_html('<a href="{}">{}</a>', url, event.order.number)

    @admin.display(description="payload")
    def pretty_payload(self, event: WebhookEvent) -> str:
        return format_html('<pre class="webhook-payload">{}</pre>', json.dumps(event.payload, indent=2))


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    verbose_name_plural = "Stripe webhook events"
    fields = ["received_at", "stripe_event_id", "type", "outcome", "note"]
    readonly_fields = fields
    ordering = ["received_at"]
    show_change_link = True


class PaymentOrderAdmin(OrderRefundMixin, OrderAdmin):
    """The order page, plus what only the payments app knows about (refunds: admin_refunds.py)."""

    inlines = [*OrderAdmin.inlines, RefundInline, WebhookEventInline]
    readonly_fields = [*OrderAdmin.readonly_fields, "stripe_link"]
    fieldsets = [
        *OrderAdmin.fieldsets[:2],
        ("Payment", {"fields": ["payment_intent_id", "stripe_link", "failure_message"]}),
        *OrderAdmin.fieldsets[3:],
    ]

    @admin.display(description="Stripe dashboard")
    def stripe_link(self, order: Order) -> str:
        if not order.payment_intent_id:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">View on Stripe dashboard</a>',
            stripe_dashboard_url(order.payment_intent_id),
        )


admin.site.unregister(Order)
admin.site.register(Order, PaymentOrderAdmin)
