"""Fulfilment in the admin: the order page's "Mark as shipped" form and "Mark as delivered" button,
and the packing slip.

Staff need the `orders.ship_order` permission ("Can mark orders shipped or
delivered"); superusers have it. A disputed order ships only once staff tick
"Ship anyway" on the form. The work is done by shop/orders/services.py.
The ship page shows what goes in the parcel and where it goes (the address as
the country writes it, shop/orders/addresses.py), so staff never leave it to
write the label; the packing slip is the same, printable, for anyone who may
see the order.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from shop.orders.addresses import address_lines
from shop.orders.forms import ShipForm
from shop.orders.models import SHIPPABLE_STATUSES, FulfilmentStatus, Order
from shop.orders.services import (
    FulfilmentNotAllowed,
    order_dispute_warning,
    order_mark_delivered,
    order_mark_shipped,
)

SHIP_PERMISSION = "orders.ship_order"


def order_can_ship(order: Order) -> bool:
    return order.fulfilment_status == FulfilmentStatus.UNFULFILLED and order.status in SHIPPABLE_STATUSES


class OrderFulfilmentMixin:
    """Mixed into the order admin: the ship page and the delivered button."""

    def has_ship_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(SHIP_PERMISSION)

    def get_urls(self):
        urls = [
            path(
                "<path:object_id>/ship/",
                self.admin_site.admin_view(self.ship_view),
                name="orders_order_ship",
            ),
            path(
                "<path:object_id>/delivered/",
                self.admin_site.admin_view(require_POST(self.delivered_view)),
                name="orders_order_delivered",
            ),
            path(
                "<path:object_id>/packing-slip/",
                self.admin_site.admin_view(self.packing_slip_view),
                name="orders_order_packing_slip",
            ),
        ]
        return [*urls, *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, unquote(object_id))
        if order is not None and self.has_ship_permission(request):
            if order_can_ship(order):
                extra_context["ship_url"] = reverse("admin:orders_order_ship", args=[order.pk])
            elif order.fulfilment_status == FulfilmentStatus.SHIPPED:
                extra_context["delivered_url"] = reverse("admin:orders_order_delivered", args=[order.pk])
        return super().change_view(request, object_id, form_url, extra_context)

    def _order_for_fulfilment(self, request: HttpRequest, object_id: str) -> Order | None:
        order = self.get_object(request, unquote(object_id))
        if order is not None and not (
            self.has_view_or_change_permission(request, order) and self.has_ship_permission(request)
        ):
            raise PermissionDenied
        return order

    def ship_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order_for_fulfilment(request, object_id)
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        dispute_warning = order_dispute_warning(order) if order.is_disputed else ""
        if request.method == "POST":
            form = ShipForm(request.POST, dispute_warning=dispute_warning)
            if form.is_valid():
                try:
                    order = order_mark_shipped(
                        order=order,
                        user=request.user,
                        carrier=form.cleaned_data["carrier"],
                        tracking_number=form.cleaned_data["tracking_number"],
                        ship_disputed=form.cleaned_data.get("ship_anyway", False),
                    )
                except FulfilmentNotAllowed as exc:
                    messages.error(request, exc.message)
                    return redirect(change_url)
                messages.success(request, f"Order {order.number} shipped ({_parcel(order)}).")
                return redirect(change_url)
        elif not order_can_ship(order):
            messages.error(
                request,
                f"Order {order.number} is {order.get_status_display().lower()} and "
                f"{order.get_fulfilment_status_display().lower()}: it cannot be shipped.",
            )
            return redirect(change_url)
        else:
            form = ShipForm(dispute_warning=dispute_warning)
        context = {
            **self.admin_site.each_context(request),
            **_parcel_context(order),
            "title": f"Ship order {order.number}",
            "opts": self.opts,
            "original": order,
            "form": form,
            "dispute_warning": dispute_warning,
            "change_url": change_url,
            "packing_slip_url": reverse("admin:orders_order_packing_slip", args=[order.pk]),
        }
        return TemplateResponse(
            request, "admin/orders/order/ship.html", context, status=400 if form.errors else 200
        )

    def packing_slip_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self.get_object(request, unquote(object_id))
        if order is None:
            raise Http404("No order with that id.")
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **_parcel_context(order),
            "title": f"Packing slip, order {order.number}",
            "opts": self.opts,
            "original": order,
            "change_url": reverse("admin:orders_order_change", args=[order.pk]),
            "shop_address": [line.strip() for line in settings.SHOP_ADDRESS.split("|") if line.strip()],
        }
        return TemplateResponse(request, "admin/orders/order/packing_slip.html", context)

    def delivered_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        order = self._order_for_fulfilment(request, object_id)
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        try:
            order = order_mark_delivered(order=order, user=request.user)
        except FulfilmentNotAllowed as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Order {order.number} delivered.")
        return redirect(reverse("admin:orders_order_change", args=[order.pk]))


def _parcel_context(order: Order) -> dict:
    """What goes in the parcel and where it goes: for the ship page and the packing slip."""
    return {
        "order": order,
        "lines": order.items.select_related("book"),
        "address": address_lines(order),
    }


def _parcel(order: Order) -> str:
    return f"{order.get_carrier_display()} {order.tracking_number}"
