import factory

from shop.catalog.models import Book, Subject


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Subject {n}")
    slug = factory.Sequence(lambda n: f"subject-{n}")


class BookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Book
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Book number {n}")
    author = factory.Faker("name")
    slug = factory.Sequence(lambda n: f"book-{n}")
    description = "A book about doing good work."
    price_amount = 2300
    currency = "usd"
    cover = ""
    is_active = True
    stock = 20

    class Params:
        # A stored cover (a plain JPEG 600 × 900, sized copies made on save), as after an upload.
        with_cover = factory.Trait(cover=factory.django.ImageField(width=600, height=900, format="JPEG"))

    @factory.post_generation
    def subjects(self, create, subjects, **kwargs):
        if create and subjects:
            self.subjects.set(subjects)
