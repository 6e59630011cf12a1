from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shop.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from shop.orders import checks  # noqa: F401  (registers the SITE_URL deploy check)
