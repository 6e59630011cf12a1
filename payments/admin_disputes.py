"""Disputes in the admin: their list and pages (read-only: Stripe owns them), and the order page's list.

A dispute's page links to it on Stripe's dashboard, where staff answer it;
in offline mode (the local emulator) there is no such page, and no link.
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from core.admin_mixins import RecordAdminMixin
from payments.models import Dispute
from payments.selectors import OPEN_DISPUTES
from payments.stripe_client import stripe_dashboard_dispute_url
from shop.orders.admin import ReadOnlyInline


class DisputeStateFilter(admin.SimpleListFilter):
    """Open (Stripe awaits evidence or decides) or closed, whatever Stripe's exact status."""

    title = "state"
    parameter_name = "state"
    OPEN, CLOSED = "open", "closed"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [(self.OPEN, "Open"), (self.CLOSED, "Closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> QuerySet[Dispute]:
        if self.value() == self.OPEN:
            return queryset.filter(OPEN_DISPUTES)
        if self.value() == self.CLOSED:
            return queryset.exclude(OPEN_DISPUTES)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = [
        "stripe_dispute_id",
        "order_link",
        "amount_display",
        "status",
        "reason",
        "evidence_due_by",
        "opened_at",
    ]
    list_filter = [DisputeStateFilter, "status", "reason", "opened_at"]
    search_fields = ["stripe_dispute_id", "payment_intent_id", "charge_id", "order__number", "order__email"]
    list_select_related = ["order"]
    date_hierarchy = "opened_at"
    fields = [
        "stripe_dispute_id",
        "stripe_link",
        "order_link",
        "payment_intent_id",
        "charge_id",
        "amount_display",
        "reason",
        "status",
        "evidence_due_by",
        "opened_at",
        "closed_at",
        "last_event_type",
        "last_event_id",
        "last_event_created",
        "staff_emailed_at",
    ]
    readonly_fields = fields

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        fields = super().get_fields(request, obj)
        if obj is None or stripe_dashboard_dispute_url(obj.stripe_dispute_id):
            return fields
        return [name for name in fields if name != "stripe_link"]  # offline mode: no dead link

    @admin.display(description="order", ordering="order__number")
    def order_link(self, dispute: Dispute) -> str:
        if dispute.order is None:
            return f"None of ours (PaymentIntent {dispute.payment_intent_id or 'not given'})"
        url = reverse("admin:orders_order_change", args=[dispute.order.pk])
        return format_html('<a href="{}">{}</a>', url, dispute.order.number)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, dispute: Dispute) -> str:
        return dispute.amount_display

    @admin.display(description="Stripe dashboard")
    def stripe_link(self, dispute: Dispute) -> str:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Answer it on Stripe\'s dashboard</a>',
            stripe_dashboard_dispute_url(dispute.stripe_dispute_id),
        )


class DisputeInline(ReadOnlyInline):
    """The order page's disputes, each linking to its own page."""

    model = Dispute
    fk_name = "order"
    fields = ["stripe_dispute_id", "amount_display", "status", "reason", "evidence_due_by", "opened_at"]
    readonly_fields = fields
    ordering = ["opened_at", "id"]
    show_change_link = True

    @admin.display(description="amount")
    def amount_display(self, dispute: Dispute) -> str:
        return dispute.amount_display
