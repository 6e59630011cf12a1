from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "shop.cart"
    label = "cart"
    verbose_name = "Carts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.sessions.models import Session
        from django.db.models.signals import post_delete, post_save

        from shop.cart import holes  # noqa: F401  (registers the cart's page holes)
        from shop.cart.shopper import carts_changed

        # A session saved (a new key, a new expiry) or deleted (its cart with it): remembered
        # cart states may be out of date (shop/cart/shopper.py).
        post_save.connect(carts_changed, sender=Session, dispatch_uid="cart-session-saved")
        post_delete.connect(carts_changed, sender=Session, dispatch_uid="cart-session-deleted")
