"""`manage.py seed_catalog`: the shop's own books and their covers (shop/catalog/seed.py)."""

from django.core.management.base import BaseCommand

from shop.catalog.seed import shop_books_seed


class Command(BaseCommand):
    help = "Add the shop's own books (and their covers) that the catalog lacks. Safe to repeat."

    def handle(self, *args, **options):
        added = shop_books_seed()
        self.stdout.write(f"Added {added} of the shop's books.")
