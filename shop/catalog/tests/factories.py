import factory

from shop.catalog.models import Book


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Book

    title = factory.Sequence(lambda n: f"Book number {n}")
    author = factory.Faker("name")
    slug = factory.Sequence(lambda n: f"book-{n}")
    description = "A book about doing good work."
    price_amount = 2300
    currency = "usd"
    cover = ""
    is_active = True
    stock = 20
