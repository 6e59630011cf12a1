"""Refunds in the admin: the order page's Refund button and form, read-only lists.

Staff need the `payments.refund_order` permission ("Can refund orders");
superusers have it. The work is done by `payments.services.refunds`.
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin_mixins import RecordAdminMixin
from core.money import format_money, minor_units_to_text
from payments.exceptions import PaymentError, RefundUnconfirmed
from payments.forms import RefundForm
from payments.models import Refund, RefundStatus
from payments.selectors import (
    order_is_refundable,
    refund_get_for_order,
    refund_list_for_order,
    refund_totals,
    refunds_count,
)
from payments.services.refunds import refund_create, refund_send
from shop.orders.admin import ReadOnlyInline
from shop.orders.models import FulfilmentStatus, Order
from shop.orders.services import order_quantities, order_stock_release, order_voucher_use_return

REFUND_PERMISSION = "payments.refund_order"
SHIPPED_STATES = (FulfilmentStatus.SHIPPED, FulfilmentStatus.DELIVERED)


def _can_see_refunds(request: HttpRequest) -> bool:
    return request.user.has_perm("payments.view_refund") or request.user.has_perm(REFUND_PERMISSION)


class RefundInline(ReadOnlyInline):
    model = Refund
    fk_name = "order"
    fields = ["created_at", "amount_display", "status", "stripe_refund_id", "reason", "created_by"]
    readonly_fields = [*fields, "failure_reason"]
    ordering = ["created_at", "id"]

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _can_see_refunds(request)


@admin.register(Refund)
class RefundAdmin(RecordAdminMixin, admin.ModelAdmin):
    list_display = ["__str__", "order_link", "amount_display", "status", "created_by", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["stripe_refund_id", "order__number", "order__payment_intent_id", "reason"]
    list_select_related = ["order", "created_by"]
    date_hierarchy = "created_at"
    fields = [
        "order_link",
        "stripe_refund_id",
        "amount_display",
        "status",
        "reason",
        "failure_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return _can_see_refunds(request)

    @admin.display(description="order", ordering="order__number")
    def order_link(self, refund: Refund) -> str:
        url = reverse("admin:orders_order_change", args=[refund.order_id])
        return format_html('<a href="{}">{}</a>', url, refund.order.number)

    @admin.display(description="amount", ordering="amount")
    def amount_display(self, refund: Refund) -> str:
        return refund.amount_display


class OrderRefundMixin:
    """Mixed into the order admin: the Refund button and the refund page."""

    def has_refund_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(REFUND_PERMISSION)

    def get_urls(self):
        refund = path(
            "<path:object_id>/refund/",
            self.admin_site.admin_view(self.refund_view),
            name="orders_order_refund",
        )
        return [refund, *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, unquote(object_id))
        if order is not None and self.has_refund_permission(request) and order_is_refundable(order=order):
            extra_context["refund_url"] = reverse("admin:orders_order_refund", args=[order.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def refund_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not (self.has_view_or_change_permission(request, order) and self.has_refund_permission(request)):
            raise PermissionDenied
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        if request.method == "POST" and "resend" in request.POST:
            return self._refund_resend(request, order, change_url)
        if request.method == "POST":
            form = RefundForm(
                request.POST,
                currency=order.currency,
                copies=_copies_held(order),
                voucher_code=_voucher_use_held(order),
            )
            if form.is_valid():
                full = form.cleaned_data["amount"] >= refund_totals(order=order).remaining
                try:
                    refund = refund_create(
                        order=order,
                        amount=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"],
                        user=request.user,
                        refund_count=form.cleaned_data["refund_count"],
                    )
                except RefundUnconfirmed as exc:
                    messages.error(request, exc.message)  # the same form resends the same request
                except PaymentError as exc:
                    # Refused here or by Stripe: what was typed stays, for the order as it is now.
                    messages.error(request, exc.message)
                    form = _refund_form_rebound(form, order)
                else:
                    messages.success(request, _refund_success_message(refund))
                    if full and form.cleaned_data.get("restock") and _copies_held(order):
                        order_stock_release(order=order, cause=f"full refund by {request.user}")
                        messages.success(request, "The copies are back in stock.")
                    cause = f"full refund by {request.user}"
                    give_back = full and form.cleaned_data.get("voucher_use_back")
                    if give_back and order_voucher_use_return(order=order, cause=cause):
                        messages.success(request, f"The use of discount code {order.voucher_code} is back.")
                    return redirect(change_url)
        elif not order_is_refundable(order=order):
            messages.error(
                request,
                f"Order {order.number} is {order.get_status_display().lower()}: there is nothing to refund.",
            )
            return redirect(change_url)
        else:
            form = _refund_form_for(order)
        order.refresh_from_db()
        totals = refund_totals(order=order)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.number}",
            "opts": self.opts,
            "original": order,
            "order": order,
            "form": form,
            "change_url": change_url,
            "charged": format_money(totals.charged, order.currency),
            "refunded": format_money(totals.refunded, order.currency),
            "unconfirmed": format_money(totals.unconfirmed, order.currency) if totals.unconfirmed else "",
            "remaining": format_money(totals.remaining, order.currency),
            "refunds": refund_list_for_order(order=order),
            "shipped": order.fulfilment_status in SHIPPED_STATES,
        }
        return TemplateResponse(request, "admin/orders/order/refund.html", context)

    def _refund_resend(self, request: HttpRequest, order: Order, change_url: str) -> HttpResponse:
        refund = refund_get_for_order(order=order, refund_id=request.POST.get("resend") or "")
        if refund is None:
            messages.error(request, "That refund does not belong to this order.")
        else:
            try:
                refund = refund_send(refund=refund)
            except PaymentError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _refund_success_message(refund))
        return redirect(reverse("admin:orders_order_refund", args=[order.pk]))


def _copies_held(order: Order) -> int:
    """Copies the order still holds on the shelf (reserved or sold, not given back, not shipped):
    those a full refund may put back in stock. Shipped copies come back, if ever, as a return."""
    if not order.stock_reserved or order.fulfilment_status in SHIPPED_STATES:
        return 0
    return sum(order_quantities(order=order).values())


def _voucher_use_held(order: Order) -> str:
    """The order's discount code while it holds a use of it, for the give-back offer ("" otherwise)."""
    return order.voucher_code if order.voucher_use_held else ""


def _refund_form_for(order: Order) -> RefundForm:
    remaining = refund_totals(order=order).remaining
    return RefundForm(
        currency=order.currency,
        copies=_copies_held(order),
        voucher_code=_voucher_use_held(order),
        initial={
            "amount": minor_units_to_text(amount=remaining, currency=order.currency),
            "refund_count": refunds_count(order=order),
        },
    )


def _refund_form_rebound(form: RefundForm, order: Order) -> RefundForm:
    data = form.data.copy()
    data["refund_count"] = str(refunds_count(order=order))
    return RefundForm(
        data, currency=order.currency, copies=_copies_held(order), voucher_code=_voucher_use_held(order)
    )


def _refund_success_message(refund: Refund) -> str:
    state = (
        "refunded"
        if refund.status == RefundStatus.SUCCEEDED
        else f"refund {refund.get_status_display().lower()}"
    )
    return (
        f"Order {refund.order.number}: {state} {refund.amount_display} "
        f"(Stripe refund {refund.stripe_refund_id})."
    )
