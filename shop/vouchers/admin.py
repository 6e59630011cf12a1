"""Discount codes in the admin: staff create, edit and deactivate them; uses are counted by checkouts.

A code that orders used cannot be deleted (the orders keep it): deactivate it instead.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from core.money import format_money
from shop.vouchers.forms import VoucherAdminForm
from shop.vouchers.models import Voucher

# The order list filtered to one code's orders (OrderAdmin allows this lookup).
ORDERS_LOOKUP = "voucher__id__exact"


@admin.register(Voucher)
class VoucherAdmin(admin.ModelAdmin):
    form = VoucherAdminForm
    list_display = ["code", "value_shown", "minimum", "valid_from", "valid_until", "uses", "is_active"]
    list_filter = ["is_active", "kind", "once_per_email"]
    search_fields = ["code"]
    readonly_fields = ["uses", "orders_link", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "is_active"]}),
        ("Discount", {"fields": ["kind", "value", "currency", "minimum_subtotal"]}),
        ("Limits", {"fields": ["valid_from", "valid_until", "max_uses", "once_per_email"]}),
        ("Use", {"fields": ["uses", "orders_link", "created_at", "updated_at"]}),
    ]

    @admin.display(description="discount", ordering="value")
    def value_shown(self, voucher: Voucher) -> str:
        return voucher.value_display

    @admin.display(description="minimum subtotal", ordering="minimum_subtotal")
    def minimum(self, voucher: Voucher) -> str:
        return format_money(voucher.minimum_subtotal, voucher.currency) if voucher.minimum_subtotal else "—"

    @admin.display(description="uses", ordering="uses_count")
    def uses(self, voucher: Voucher) -> str:
        return voucher.uses_display

    @admin.display(description="orders")
    def orders_link(self, voucher: Voucher) -> str:
        if voucher.pk is None:
            return "—"
        url = reverse("admin:orders_order_changelist") + "?" + urlencode({ORDERS_LOOKUP: voucher.pk})
        return format_html('<a href="{}">Orders with code {}</a>', url, voucher.code)
