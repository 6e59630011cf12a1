from django.contrib import admin

LOW_STOCK = 5


class StockListFilter(admin.SimpleListFilter):
    """Which books need restocking."""

    title = "stock"
    parameter_name = "stock"

    def lookups(self, request, model_admin):
        return [
            ("sold_out", "Sold out"),
            ("low", f"{LOW_STOCK} or fewer left"),
            ("in_stock", "In stock"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "sold_out":
            return queryset.filter(stock=0)
        if self.value() == "low":
            return queryset.filter(stock__gt=0, stock__lte=LOW_STOCK)
        if self.value() == "in_stock":
            return queryset.filter(stock__gt=0)
        return queryset
