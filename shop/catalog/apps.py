from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shop.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from shop.catalog.models import Book

        # A book saved or deleted (the admin, a fixture, a shell): its cached fragments are left behind.
        post_save.connect(_book_changed, sender=Book, dispatch_uid="catalog_book_saved")
        post_delete.connect(_book_changed, sender=Book, dispatch_uid="catalog_book_deleted")


def _book_changed(sender, **kwargs) -> None:
    from shop.catalog.cache import catalog_changed

    catalog_changed()
