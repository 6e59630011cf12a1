import pytest
from django.core.exceptions import ValidationError

from shop.catalog.tests.factories import BookFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("cover", "message"),
    [
        ("covers/missing.svg", "No static file"),
        ("../settings.py", "image path under static/"),
        ("https://example.com/cover.png", "image path under static/"),
        ("covers/script.js", "image path under static/"),
    ],
)
def test_a_cover_must_be_an_existing_static_image(cover, message):
    book = BookFactory.build(cover=cover)
    with pytest.raises(ValidationError) as error:
        book.full_clean()
    assert message in str(error.value.message_dict["cover"])


@pytest.mark.django_db
def test_the_seed_covers_are_valid():
    BookFactory.build(cover="covers/making-of-prince-of-persia.svg").full_clean()
    BookFactory.build(cover="").full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/healthz"])
def test_load_balancers_may_check_with_head(client, url):
    response = client.head(url)
    assert response.status_code == 200
