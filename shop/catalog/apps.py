from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "shop.catalog"
    label = "catalog"
    verbose_name = "Catalog"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from shop.catalog.models import Book, Subject

        # A book or subject saved or deleted, a book's subjects changed (the admin, an import, a
        # fixture, a shell): the cached fragments showing them are left behind.
        for model in (Book, Subject):
            name = model._meta.model_name
            post_save.connect(_book_changed, sender=model, dispatch_uid=f"catalog_{name}_saved")
            post_delete.connect(_book_changed, sender=model, dispatch_uid=f"catalog_{name}_deleted")
        m2m_changed.connect(_book_changed, sender=Book.subjects.through, dispatch_uid="catalog_subjects_set")
        # A saved book's words are searchable at once (PostgreSQL; nothing to keep elsewhere).
        post_save.connect(_book_saved_search, sender=Book, dispatch_uid="catalog_book_search_vector")


def _book_changed(sender, **kwargs) -> None:
    from shop.catalog.cache import catalog_changed

    catalog_changed()


def _book_saved_search(sender, instance, using, **kwargs) -> None:
    from shop.catalog.search import book_search_vectors_update

    book_search_vectors_update(books=sender.objects.using(using).filter(pk=instance.pk))
