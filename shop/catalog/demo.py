"""Made-up books for demos and benchmarks (`manage.py seed_catalog --books N`), written in bulk.

`demo_books_seed()` adds `count` books that read like a backlist: titles
built from a bookshop's vocabulary, authors' names and descriptions from
Faker (through factory-boy, a development dependency), a valid and unique
ISBN-13 each (979-8 prefix, numbered after the highest one there), one to
three of DEMO_SUBJECTS, prices from $9 to $45, a year, a page count, and
about one book in ten sold out. The same `seed` gives the same books.

The rows go in with bulk_create (no save signals): then one UPDATE makes the
search vectors (PostgreSQL) and the catalog version moves on, so 10,000 books
take seconds.
"""

import random

import factory
import factory.random
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from stdnum import ean

from shop.catalog.cache import catalog_changed
from shop.catalog.models import Book, Subject
from shop.catalog.search import book_search_vectors_update

DEMO_ISBN_PREFIX = "9798"  # 979-8: a registration group with room for 8-digit numbers here
BATCH = 1000
DEMO_SUBJECTS = [
    "Art and design", "Biography", "Business", "Cities", "Climate", "Computing history", "Economics",
    "Education", "Energy", "Engineering", "Games", "Health", "History of science", "Management",
    "Mathematics", "Memoir", "Music", "Open source", "Philosophy", "Physics", "Politics",
    "Programming", "Space", "Writing",
]  # fmt: skip
ADJECTIVES = [
    "Quiet", "Hidden", "Long", "Open", "Invisible", "Great", "Small", "Lost", "Patient", "Bright",
    "Second", "Last", "Restless", "Careful", "Unfinished", "Common", "Human", "Endless", "Silent", "Early",
]  # fmt: skip
NOUNS = [
    "Machine", "Frontier", "Engine", "Garden", "Network", "Experiment", "Republic", "Workshop", "Signal",
    "Harvest", "Bridge", "Archive", "Compass", "Laboratory", "Atlas", "Lighthouse", "Factory", "Market",
    "Orbit", "River", "Library", "Code", "Map", "Mind", "City", "Century", "Question", "Pattern",
]  # fmt: skip
PLURALS = [
    "Builders", "Makers", "Engineers", "Scientists", "Dreamers", "Inventors", "Maintainers", "Founders",
    "Explorers", "Teachers", "Cities", "Ideas", "Tools", "Systems", "Numbers", "Stars",
]  # fmt: skip
TITLE_PATTERNS = [
    "The {adjective} {noun}",
    "The {noun} and the {noun2}",
    "A Short History of the {noun}",
    "On {plural}",
    "{plural} of the {adjective} {noun}",
    "How the {noun} Works",
    "The {noun} Years",
    "Notes from the {noun}",
    "The Art of the {noun}",
    "{adjective} {plural}",
]


class DemoBookFactory(factory.Factory):
    """An unsaved Book that reads like a real one (the seed command saves them in bulk)."""

    class Meta:
        model = Book

    title = factory.LazyFunction(
        lambda: random.choice(TITLE_PATTERNS).format(
            adjective=random.choice(ADJECTIVES),
            noun=random.choice(NOUNS),
            noun2=random.choice(NOUNS),
            plural=random.choice(PLURALS),
        )
    )
    author = factory.Faker("name")
    description = factory.Faker("paragraph", nb_sentences=4)
    price_amount = factory.LazyFunction(lambda: random.randrange(900, 4500, 50))
    currency = "usd"
    stock = factory.LazyFunction(lambda: 0 if random.random() < 0.1 else random.randint(1, 60))
    publication_year = factory.LazyFunction(lambda: random.randint(1950, 2025))
    page_count = factory.LazyFunction(lambda: random.randint(96, 880))
    is_active = True


def demo_isbn(number: int) -> str:
    body = f"{DEMO_ISBN_PREFIX}{number:08d}"
    return body + ean.calc_check_digit(body)  # an ISBN-13 is an EAN-13


@transaction.atomic
def demo_books_seed(*, count: int, seed: int | None = None) -> int:
    """Add `count` made-up books (and DEMO_SUBJECTS when missing); how many were added."""
    if seed is not None:
        random.seed(seed)
        factory.random.reseed_random(seed)
    subjects = [
        Subject.objects.get_or_create(slug=slugify(name), defaults={"name": name})[0]
        for name in DEMO_SUBJECTS
    ]
    highest = Book.objects.filter(isbn__startswith=DEMO_ISBN_PREFIX).aggregate(Max("isbn"))["isbn__max"]
    first = int(highest[len(DEMO_ISBN_PREFIX) : -1]) + 1 if highest else 1
    links = []
    for start in range(first, first + count, BATCH):
        numbers = range(start, min(start + BATCH, first + count))
        books = DemoBookFactory.build_batch(len(numbers))
        for number, book in zip(numbers, books, strict=True):
            book.isbn = demo_isbn(number)
            book.slug = f"{slugify(book.title)[:80]}-{number}"
        for book in Book.objects.bulk_create(books):
            links += [
                Book.subjects.through(book_id=book.pk, subject_id=subject.pk)
                for subject in random.sample(subjects, random.randint(1, 3))
            ]
    Book.subjects.through.objects.bulk_create(links, batch_size=BATCH * 3)
    book_search_vectors_update(
        books=Book.objects.filter(isbn__startswith=DEMO_ISBN_PREFIX, search_vector=None)
    )
    catalog_changed()
    return count
