from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "shop.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shop.orders import checks  # noqa: F401  (registers the SITE_URL deploy check)
        from shop.orders.models import Order, orders_changed

        # With OrderQuerySet.update, every write of an order through Django moves the orders
        # version on: order pages remembered per that version are read again (versions.py).
        post_save.connect(orders_changed, sender=Order, dispatch_uid="orders-saved")
        post_delete.connect(orders_changed, sender=Order, dispatch_uid="orders-deleted")
