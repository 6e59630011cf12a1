"""`manage.py seed_catalog [--books N] [--seed S]`: the shop's own books and their covers
(shop/catalog/seed.py), and N made-up ones for demos and benchmarks (shop/catalog/demo.py, which
needs the development requirements: factory-boy)."""

import time

from django.core.management.base import BaseCommand, CommandError

from shop.catalog.seed import shop_books_seed


class Command(BaseCommand):
    help = (
        "Add the shop's own books (and their covers) that the catalog lacks, and with --books N, "
        "N made-up books for demos and benchmarks. Safe to repeat (each --books run adds N more)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--books", type=int, default=0, help="made-up books to add (e.g. 10000)")
        parser.add_argument("--seed", type=int, default=None, help="the same seed makes the same books")

    def handle(self, *args, books: int, seed: int | None, **options):
        if books < 0:
            raise CommandError("--books takes a number from 0 up.")
        added = shop_books_seed()
        if options["verbosity"]:
            self.stdout.write(f"Added {added} of the shop's books.")
        if not books:
            return
        try:
            from shop.catalog.demo import demo_books_seed
        except ImportError as missing:  # factory-boy is a development requirement
            raise CommandError(
                f"--books needs the development requirements ({missing.name} is missing)."
            ) from None
        started = time.monotonic()
        demo_books_seed(count=books, seed=seed)
        if options["verbosity"]:
            self.stdout.write(f"Added {books:,} made-up books in {time.monotonic() - started:.1f} s.")
