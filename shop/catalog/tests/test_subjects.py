"""Subjects: a page of their books at /subjects/<slug>/, linked from each book's page."""

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from shop.catalog.tests.factories import BookFactory, SubjectFactory

pytestmark = pytest.mark.django_db


def test_a_subject_page_lists_its_active_books_only(client):
    history = SubjectFactory(name="History of Computing", slug="history-of-computing")
    BookFactory(title="The Dream Machine", subjects=[history])
    BookFactory(title="Withdrawn History", is_active=False, subjects=[history])
    BookFactory(title="About Something Else", subjects=[SubjectFactory()])

    response = client.get("/subjects/history-of-computing/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "<h1" in page and "History of Computing" in page
    assert "The Dream Machine" in page
    assert "Withdrawn History" not in page and "About Something Else" not in page


@pytest.mark.parametrize("path", ["/subjects/no-such-subject/", "/subjects/", "/subjects/bad%20slug/"])
def test_an_unknown_subject_is_404(client, path):
    SubjectFactory(slug="real")
    assert client.get(path).status_code == 404


def test_a_book_page_links_its_subjects_and_shows_its_facts(client):
    design = SubjectFactory(name="Design", slug="design")
    games = SubjectFactory(name="Games", slug="games")
    book = BookFactory(subjects=[games, design], isbn="9780306406157", publication_year=2020, page_count=312)

    page = client.get(book.get_absolute_url()).content.decode()

    assert page.index('href="/subjects/design/">Design</a>') < page.index('href="/subjects/games/">Games</a>')
    assert "<dd>2020</dd>" in page and "<dd>312</dd>" in page and "<dd>978-0-306-40615-7</dd>" in page


def test_a_book_page_without_subjects_or_facts_shows_neither(client):
    page = client.get(BookFactory().get_absolute_url()).content.decode()
    assert "book-subjects" not in page and "book-facts" not in page


@pytest.mark.django_db(transaction=True)
def test_a_renamed_subject_or_a_book_given_one_shows_at_once():
    subject = SubjectFactory(name="Engineering", slug="engineering")
    book = BookFactory(title="Stays")
    assert "Stays" not in Client().get(subject.get_absolute_url()).content.decode()  # cached from here
    Client().get(book.get_absolute_url())

    with transaction.atomic():
        book.subjects.add(subject)
    assert "Stays" in Client().get(subject.get_absolute_url()).content.decode()

    subject.name = "Engineering Practice"
    subject.save()
    assert "Engineering Practice" in Client().get(book.get_absolute_url()).content.decode()
    assert "Engineering Practice" in Client().get(subject.get_absolute_url()).content.decode()


def test_staff_manage_subjects_in_the_admin(admin_client):
    SubjectFactory(name="Economics", slug="economics")
    response = admin_client.post(
        reverse("admin:catalog_subject_add"), {"name": "Open Source", "slug": "open-source"}
    )
    assert response.status_code == 302
    listing = admin_client.get(reverse("admin:catalog_subject_changelist")).content.decode()
    assert "Open Source" in listing and "Economics" in listing


def test_staff_set_a_books_subjects_in_the_admin(admin_client):
    design = SubjectFactory(name="Design")
    book = BookFactory()
    data = {
        "title": book.title,
        "author": book.author,
        "slug": book.slug,
        "description": "",
        "isbn": "",
        "subjects": [str(design.pk)],
        "price_amount": "23.00",
        "currency": "usd",
        "stock": "4",
        "is_active": "on",
    }
    response = admin_client.post(reverse("admin:catalog_book_change", args=[book.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(book.subjects.all()) == [design]


def test_the_admin_filters_books_by_subject(admin_client):
    design = SubjectFactory(name="Design")
    BookFactory(title="Designed", subjects=[design])
    BookFactory(title="Not designed")
    response = admin_client.get(reverse("admin:catalog_book_changelist"), {"subjects__id__exact": design.pk})
    assert [book.title for book in response.context["cl"].result_list] == ["Designed"]
