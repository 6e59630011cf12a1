from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "shop.cart"
    label = "cart"
    verbose_name = "Carts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from shop.cart import holes  # noqa: F401  (registers the cart's page holes)
