"""Payments in the admin: webhook events (read-only, with Replay) and the payment parts of the order page.

Refunds and disputes have their own modules (admin_refunds.py, admin_disputes.py).
"""

import json
import re

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.admin_mixins import RecordAdminMixin
from payments.admin_disputes import DisputeInline
from payments.admin_refunds import OrderRefundMixin, RefundInline
from payments.models import Refund, WebhookEvent
from payments.services.replay import webhook_event_replay_by_staff
from payments.stripe_client import stripe_dashboard_exists, stripe_dashboard_url
from shop.orders.admin import OrderAdmin, ReadOnlyInline
from shop.orders.models import Order
from shop.orders.selectors import order_get_by_payment_intent

REPLAY_PERMISSION = "payments.replay_webhookevent"


@admin.register(WebhookEvent)
class WebhookEventAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The shop's record of what Stripe said: nothing here can be added, changed or deleted."""

    list_display = [
        "stripe_event_id",
        "event_type",
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
        "order_link_found",
        "payment_intent_id",
        "received_at",
        "processed_at",
        "attempts",
        "note",
        "error_text",
        "pretty_payload",
    ]
    readonly_fields = fields

    def has_replay_permission(self, request: HttpRequest, obj: WebhookEvent | None = None) -> bool:
        return request.user.has_perm(REPLAY_PERMISSION)

    def get_urls(self):
        replay = path(
            "<path:object_id>/replay/",
            self.admin_site.admin_view(require_POST(self.replay_view)),
            name="payments_webhookevent_replay",
        )
        return [replay, *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = extra_context or {}
        event = self.get_object(request, unquote(object_id))
        if event is not None and event.outcome == WebhookEvent.Outcome.FAILED:
            extra_context["replay_allowed"] = self.has_replay_permission(request, event)
            extra_context["replay_url"] = reverse("admin:payments_webhookevent_replay", args=[event.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def replay_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self.get_object(request, unquote(object_id))
        if event is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.has_view_permission(request, event) and self.has_replay_permission(request, event)):
            raise PermissionDenied
        change_url = reverse("admin:payments_webhookevent_change", args=[event.pk])
        if event.outcome != WebhookEvent.Outcome.FAILED:
            messages.error(
                request, f"Event {event.stripe_event_id} did not fail: there is nothing to replay."
            )
            return redirect(change_url)
        result = webhook_event_replay_by_staff(event=event, user=request.user)
        level = messages.SUCCESS if result.succeeded else messages.ERROR
        messages.add_message(request, level, f"Event {event.stripe_event_id}: {result.text}.")
        return redirect(change_url)

    @admin.display(description="order", ordering="order__number")
    def order_link(self, event: WebhookEvent) -> str:
        return _order_link(event.order)

    @admin.display(description="type", ordering="type")
    def event_type(self, event: WebhookEvent) -> str:
        # payment_intent.payment_failed may wrap after a dot or an underscore, never inside a word.
        parts = re.split(r"(?<=[._])", event.type)
        return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts))

    @admin.display(description="order")
    def order_link_found(self, event: WebhookEvent) -> str:
        # A failed attempt rolls back its link to the order: find it by the PaymentIntent instead
        # (on the event's page only; the list would pay one query per row).
        order = event.order
        if order is None and event.payment_intent_id:
            order = order_get_by_payment_intent(payment_intent_id=event.payment_intent_id)
        return _order_link(order)

    @admin.display(description="error")
    def error_text(self, event: WebhookEvent) -> str:
        if not event.error:
            return "—"
        return format_html('<pre class="webhook-error">{}</pre>', event.error)

    @admin.display(description="payload")
    def pretty_payload(self, event: WebhookEvent) -> str:
        return format_html('<pre class="webhook-payload">{}</pre>', json.dumps(event.payload, indent=2))


def _order_link(order: Order | None) -> str:
    if order is None:
        return "—"
    url = reverse("admin:orders_order_change", args=[order.pk])
    return format_html('<a href="{}">{}</a>', url, order.number)


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    verbose_name_plural = "Stripe webhook events"
    fields = ["received_at_seconds", "stripe_event_id", "type", "outcome", "note"]
    readonly_fields = fields
    ordering = ["received_at"]
    show_change_link = True

    @admin.display(description="received")
    def received_at_seconds(self, event: WebhookEvent) -> str:
        return OrderAdmin.time_with_seconds(event.received_at)


class OrderRefundInline(RefundInline):
    @admin.display(description="amount")
    def amount_display(self, refund: Refund) -> str:
        return refund.amount_display


def fieldsets_with_fields(fieldsets: list, *, name: str, after: str, fields: list[str]) -> list:
    """A copy of `fieldsets` with `fields` inserted after `after` in the fieldset called `name`.

    Found by name, not position, so reordering shop/orders/admin.py cannot
    silently drop the payment fields; a renamed fieldset fails at start-up.
    """
    result, found = [], False
    for title, options in fieldsets:
        if title == name:
            names = list(options["fields"])
            if after not in names:
                raise ImproperlyConfigured(f"OrderAdmin's {name!r} fieldset has no field {after!r}.")
            at = names.index(after) + 1
            options = {**options, "fields": [*names[:at], *fields, *names[at:]]}
            found = True
        result.append((title, options))
    if not found:
        raise ImproperlyConfigured(f"OrderAdmin has no fieldset named {name!r}.")
    return result


class PaymentOrderAdmin(OrderRefundMixin, OrderAdmin):
    """The order page, plus what only the payments app knows about (refunds: admin_refunds.py)."""

    inlines = [*OrderAdmin.inlines, OrderRefundInline, DisputeInline, WebhookEventInline]
    readonly_fields = [*OrderAdmin.readonly_fields, "stripe_link"]
    fieldsets = fieldsets_with_fields(
        OrderAdmin.fieldsets, name="Payment", after="payment_intent_id", fields=["stripe_link"]
    )

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if stripe_dashboard_exists():
            return fieldsets
        # Against an emulator the payment is not on Stripe: its dashboard would show nothing.
        return [
            (name, {**options, "fields": [field for field in options["fields"] if field != "stripe_link"]})
            for name, options in fieldsets
        ]

    @admin.display(description="Stripe dashboard")
    def stripe_link(self, order: Order) -> str:
        if not order.payment_intent_id:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">View on Stripe dashboard</a>',
            stripe_dashboard_url(order.payment_intent_id),
        )


# shop/orders registers the plain order admin (it knows nothing of payments); this one replaces it.
admin.site.unregister(Order)
admin.site.register(Order, PaymentOrderAdmin)
