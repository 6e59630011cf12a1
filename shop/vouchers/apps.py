from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "shop.vouchers"
    label = "vouchers"
    verbose_name = "Discount codes"
    default_auto_field = "django.db.models.BigAutoField"
