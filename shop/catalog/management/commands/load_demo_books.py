"""`python manage.py load_demo_books [--if-empty]`: the three demo books, into an empty catalog only.

With books in the catalog it refuses (exit 1) and says why, loading nothing;
with --if-empty it then does nothing (exit 0), as `make run` needs.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.catalog.exceptions import CatalogNotEmpty
from shop.catalog.services import catalog_load_demo_books


class Command(BaseCommand):
    help = "Load the three demo books into an empty catalog (refused when it has any book)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="With books in the catalog, do nothing instead of failing.",
        )

    def handle(self, *args, **options) -> None:
        try:
            loaded = catalog_load_demo_books()
        except CatalogNotEmpty as refused:
            if options["if_empty"]:
                self.stdout.write(f"Demo books not loaded: the catalog has {refused.count} already.")
                return
            raise CommandError(refused.message) from refused
        self.stdout.write(self.style.SUCCESS(f"Loaded {loaded} demo books."))
