import pytest
from django.urls import reverse

from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("sold_out", {"Gone"}),
        ("low", {"Five left", "One left"}),
        ("in_stock", {"Five left", "One left", "Plenty"}),
    ],
)
def test_book_list_filters_by_stock(admin_client, choice, expected):
    for title, stock in [("Gone", 0), ("One left", 1), ("Five left", 5), ("Plenty", 6)]:
        BookFactory(title=title, stock=stock)

    response = admin_client.get(reverse("admin:catalog_book_changelist"), {"stock": choice})

    assert response.status_code == 200
    assert {book.title for book in response.context["cl"].result_list} == expected


def test_book_list_shows_stock_and_the_change_form_edits_it(admin_client):
    book = BookFactory(title="Counted", stock=7)

    listing = admin_client.get(reverse("admin:catalog_book_changelist"))
    form = admin_client.get(reverse("admin:catalog_book_change", args=[book.pk]))

    assert "column-stock" in listing.content.decode()
    assert 'name="stock"' in form.content.decode()
