import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop.cart.models import MAX_LINES, Cart, CartLine
from shop.cart.tests.factories import CartFactory, CartLineFactory
from shop.catalog.tests.factories import BookFactory

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def add(client, follow=False, **data):
    return client.post("/cart/add/", data, follow=follow, **HTML)


def update(client, follow=False, **data):
    return client.post("/cart/update/", data, follow=follow, **HTML)


def cart_quantities() -> dict[str, int]:
    return dict(CartLine.objects.values_list("book__slug", "quantity"))


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def header_count(response) -> str:
    match = re.search(r'class="cart-link__count">\((\d+)\)', response.content.decode())
    assert match, "no cart link in the header"
    return match.group(1)


@pytest.fixture(autouse=True)
def shipping(settings):
    settings.SHIPPING_FLAT_AMOUNT = 499
    settings.SHIPPING_FREE_FROM = 5000


# --- browsing costs no session ---------------------------------------------------


def test_browsing_creates_no_session(client):
    book = BookFactory(slug="dune")
    for path in ["/", f"/books/{book.slug}/", "/cart/"]:
        response = client.get(path)
        assert response.status_code == 200
        assert header_count(response) == "0"
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    assert not Cart.objects.exists()


def test_header_count_costs_no_query_without_a_session_cookie(client, django_assert_num_queries):
    BookFactory.create_batch(3)
    with django_assert_num_queries(2):  # how many books, and their page
        response = client.get("/")
    assert header_count(response) == "0"


def test_header_count_costs_one_query_with_a_session(client, django_assert_num_queries):
    book = BookFactory()
    add(client, book=book.slug, quantity=3)
    with django_assert_num_queries(3):  # the books (how many, their page) and the count; no session load
        response = client.get("/")
    assert header_count(response) == "3"


def test_empty_cart_says_so_and_links_to_the_catalog(client):
    response = client.get("/cart/")
    text = page_text(response)
    assert "Your cart is empty." in text
    assert 'href="/"' in text
    assert "no-cache" in response["Cache-Control"]


# --- adding ------------------------------------------------------------------------------


def test_first_add_starts_a_session_and_a_cart(client):
    book = BookFactory(slug="dune", title="Dune")

    response = add(client, book="dune", quantity=2)

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert settings.SESSION_COOKIE_NAME in response.cookies
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 30 * 24 * 60 * 60
    session = Session.objects.get()
    assert session.expire_date > timezone.now() + timedelta(days=29)
    assert Cart.objects.get().session_id == session.session_key
    assert cart_quantities() == {"dune": 2}
    page = client.get("/cart/")
    assert "Added 2 copies of “Dune” to your cart." in page_text(page)
    assert header_count(page) == "2"
    assert book.title in page_text(page)


def test_add_defaults_to_one_copy_and_adds_to_what_is_there(client):
    BookFactory(slug="dune")
    add(client, book="dune")
    add(client, book="dune")
    add(client, book="dune", quantity=3)
    assert cart_quantities() == {"dune": 5}
    assert Session.objects.count() == 1


def test_add_goes_back_to_a_safe_next(client):
    BookFactory(slug="dune")
    response = add(client, book="dune", next="/books/dune/")
    assert response["Location"] == "/books/dune/"
    page = client.get("/books/dune/")
    assert "Added a copy of" in page_text(page)


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "\\\\evil"]
)
def test_add_ignores_an_unsafe_next(client, target):
    BookFactory(slug="dune")
    response = add(client, book="dune", next=target)
    assert response["Location"] == "/cart/"
    assert cart_quantities() == {"dune": 1}


def test_a_stale_session_cookie_gets_a_new_session(client):
    BookFactory(slug="dune")
    client.cookies[settings.SESSION_COOKIE_NAME] = "x" * 32  # expired and gone

    add(client, book="dune")

    session = Session.objects.get()
    assert session.session_key != "x" * 32
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == session.session_key
    assert Cart.objects.get().session_id == session.session_key


def test_each_change_keeps_the_session_another_30_days(client):
    BookFactory(slug="dune")
    add(client, book="dune")
    Session.objects.update(expire_date=timezone.now() + timedelta(days=1))
    update(client, book="dune", quantity=2)
    assert Session.objects.get().expire_date > timezone.now() + timedelta(days=29)


# --- the cart page ---------------------------------------------------------------------------


def test_cart_page_lists_lines_and_totals(client):
    hamming = BookFactory(
        slug="hamming",
        title="The Art of Doing Science",
        author="Richard Hamming",
        price_amount=2300,
        with_cover=True,
    )
    BookFactory(slug="mechner", title="Prince of Persia", author="Jordan Mechner", price_amount=850)
    add(client, book="hamming")
    add(client, book="mechner", quantity=2)

    response = client.get("/cart/")

    text = page_text(response)
    for expected in [
        "The Art of Doing Science",
        "Richard Hamming",
        "Prince of Persia",
        "Jordan Mechner",
        "$23.00 each",
        "$8.50 each",
        "$17.00",  # unit prices and a line total
        "$40.00",
        "$4.99",
        "$44.99",  # subtotal, shipping, total
        f'src="{hamming.cover_small.url}"',
        'name="quantity" value="2"',
        ">Update<",
        ">Remove<",
        "Shipping is free on orders of $50.00 or more.",
    ]:
        assert expected in text, expected
    assert header_count(response) == "3"


def test_cart_page_shows_free_shipping(client):
    BookFactory(slug="dune", price_amount=2500)
    add(client, book="dune", quantity=2)
    text = page_text(client.get("/cart/"))
    assert "Free" in text
    assert "$50.00" in text


def test_cart_page_warns_about_lines_that_changed(client):
    book = BookFactory(slug="dune", title="Dune", stock=5)
    add(client, book="dune", quantity=4)
    book.stock = 1
    book.save()
    assert "Only 1 copy of “Dune” left." in page_text(client.get("/cart/"))


def test_cart_page_queries_do_not_grow_with_lines(client, django_assert_max_num_queries):
    books = BookFactory.create_batch(MAX_LINES)
    add(client, book=books[0].slug)
    with CaptureQueriesContext(connection) as one_line:
        client.get("/cart/")
    one_line_queries = len(one_line.captured_queries)
    assert one_line_queries == 2  # the cart, its lines with their books
    for book in books[1:]:
        add(client, book=book.slug)
    with django_assert_max_num_queries(one_line_queries):
        response = client.get("/cart/")
    assert page_text(response).count(">Remove<") == MAX_LINES


# --- updating ---------------------------------------------------------------------------------


def test_update_sets_the_quantity(client):
    BookFactory(slug="dune", title="Dune")
    add(client, book="dune", quantity=5)
    response = update(client, book="dune", quantity=2, follow=True)
    assert cart_quantities() == {"dune": 2}
    assert "Your cart now holds 2 of “Dune”." in page_text(response)


def test_update_to_zero_removes_the_line(client):
    BookFactory(slug="dune", title="Dune")
    BookFactory(slug="keep")
    add(client, book="dune")
    add(client, book="keep")
    response = update(client, book="dune", quantity=0, follow=True)
    assert cart_quantities() == {"keep": 1}
    assert "Removed “Dune” from your cart." in page_text(response)
    assert header_count(response) == "1"


def test_remove_without_a_session_creates_none(client):
    BookFactory(slug="dune")
    response = update(client, book="dune", quantity=0)
    assert response.status_code == 302
    assert not Session.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_another_shoppers_cart_is_untouched(client):
    theirs = CartLineFactory(quantity=2)
    add(client, book=theirs.book.slug, quantity=1)
    update(client, book=theirs.book.slug, quantity=0)
    theirs.refresh_from_db()
    assert theirs.quantity == 2


# --- refusals: nothing changes, a clear message, never a 500 ---------------------------------

BAD_ADDS = [
    ({"book": "dune", "quantity": "0"}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "-1"}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "11"}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "99999999999999999999999"}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "9" * 5000}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "two"}, "Choose a quantity from 1 to 10."),
    ({"book": "dune", "quantity": "1.5"}, "Choose a quantity from 1 to 10."),
    ({"book": "no-such-book"}, "We could not find that book."),
    ({"book": "bad slug/../"}, "We could not find that book."),
    ({"book": "dune\x00"}, "We could not find that book."),
    ({"book": "x" * 300}, "We could not find that book."),
    ({"quantity": "1"}, "Choose a book."),
    ({"book": "withdrawn"}, "“Withdrawn” is no longer for sale."),
    ({"book": "gone"}, "“Gone” is sold out."),
    ({"book": "dune", "quantity": "4"}, "Only 3 copies of “Dune” left."),
]


@pytest.fixture
def shelf():
    BookFactory(slug="dune", title="Dune", stock=3)
    BookFactory(slug="withdrawn", title="Withdrawn", is_active=False)
    BookFactory(slug="gone", title="Gone", stock=0)


@pytest.mark.parametrize(("data", "message"), BAD_ADDS)
def test_a_refused_first_add_leaves_no_trace_and_says_why(client, shelf, data, message):
    response = add(client, **data)

    assert response.status_code == 302
    assert response["Location"] == "/cart/"
    assert not Session.objects.exists()
    assert not Cart.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in client.cookies
    page = client.get("/cart/")
    assert message in page_text(page)
    assert "message--error" in page_text(page)


@pytest.mark.parametrize(("data", "message"), BAD_ADDS)
def test_a_refused_add_to_a_cart_changes_nothing(client, shelf, data, message):
    BookFactory(slug="kept")
    add(client, book="kept", quantity=2)
    add(client, book="dune", quantity=1)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value

    response = add(client, **data)

    assert response["Location"] == "/cart/"
    assert cart_quantities() == {"kept": 2, "dune": 1}
    assert client.cookies[settings.SESSION_COOKIE_NAME].value == session_key
    assert message in page_text(client.get("/cart/"))


@pytest.mark.parametrize(("data", "message"), BAD_ADDS)
def test_a_client_that_does_not_ask_for_html_gets_json(client, shelf, data, message):
    response = client.post("/cart/add/", data, HTTP_ACCEPT="application/json")
    assert response.status_code in (400, 409)
    assert response.json() == {"error": message}
    assert not Session.objects.exists()


def test_a_client_without_accept_gets_json(client, shelf):
    response = client.post("/cart/add/", {"book": "gone"})
    assert response.status_code == 409
    assert response.json() == {"error": "“Gone” is sold out."}


def test_add_refuses_more_than_10_copies_in_all(client):
    BookFactory(slug="dune", title="Dune")
    add(client, book="dune", quantity=8)
    response = add(client, book="dune", quantity=3, follow=True)
    assert cart_quantities() == {"dune": 8}
    assert "You can order at most 10 copies of “Dune”, and your cart already has 8." in page_text(response)


def test_add_refuses_a_21st_book(client):
    books = BookFactory.create_batch(MAX_LINES + 1)
    for book in books[:MAX_LINES]:
        add(client, book=book.slug)
    response = add(client, book=books[-1].slug, follow=True)
    assert len(cart_quantities()) == MAX_LINES
    assert "Your cart can hold at most 20 different books." in page_text(response)
    json_response = client.post("/cart/add/", {"book": books[-1].slug}, HTTP_ACCEPT="application/json")
    assert json_response.status_code == 409


BAD_UPDATES = [
    ({"book": "dune", "quantity": "-1"}, "Choose a quantity from 0 to 10 (0 removes the book)."),
    ({"book": "dune", "quantity": "11"}, "Choose a quantity from 0 to 10 (0 removes the book)."),
    ({"book": "dune", "quantity": "lots"}, "Choose a quantity from 0 to 10 (0 removes the book)."),
    ({"book": "dune"}, "Choose a quantity from 0 to 10 (0 removes the book)."),
    ({"book": "nope", "quantity": "1"}, "We could not find that book."),
    ({"quantity": "1"}, "Choose a book."),
    ({"book": "dune", "quantity": "4"}, "Only 3 copies of “Dune” left."),
    ({"book": "withdrawn", "quantity": "1"}, "“Withdrawn” is no longer for sale."),
]


@pytest.mark.parametrize(("data", "message"), BAD_UPDATES)
def test_a_refused_update_changes_nothing(client, shelf, data, message):
    add(client, book="dune", quantity=2)

    response = update(client, **data, follow=True)

    assert cart_quantities() == {"dune": 2}
    assert message in page_text(response)
    json_response = client.post("/cart/update/", data, HTTP_ACCEPT="application/json")
    assert json_response.status_code in (400, 409)
    assert json_response.json() == {"error": message}


@pytest.mark.parametrize(("data", "message"), BAD_UPDATES)
def test_a_refused_update_without_a_session_creates_none(client, shelf, data, message):
    response = client.post("/cart/update/", data, HTTP_ACCEPT="application/json")
    assert response.json() == {"error": message}
    assert not Session.objects.exists()


def test_a_withdrawn_book_can_still_be_removed(client):
    book = BookFactory(slug="dune")
    add(client, book="dune")
    book.is_active = False
    book.save()
    update(client, book="dune", quantity=0)
    assert cart_quantities() == {}


@pytest.mark.parametrize("path", ["/cart/add/", "/cart/update/"])
def test_missing_csrf_token_is_refused(path):
    BookFactory(slug="dune")
    response = Client(enforce_csrf_checks=True).post(path, {"book": "dune", "quantity": "1"}, **HTML)
    assert response.status_code == 403
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("path", ["/cart/add/", "/cart/update/"])
def test_forms_only_take_post(client, path):
    assert client.get(path).status_code == 405


def test_cart_page_only_takes_get(client):
    assert client.post("/cart/").status_code == 405


def test_the_catalog_forms_post_with_a_csrf_token(shelf):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/books/dune/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(
        "/cart/add/", {"book": "dune", "quantity": "2", "csrfmiddlewaretoken": token}, **HTML
    )
    assert response.status_code == 302
    assert cart_quantities() == {"dune": 2}


# --- catalog pages ---------------------------------------------------------------------------------


def test_catalog_pages_offer_add_to_cart_next_to_buy(client):
    BookFactory(slug="dune", title="Dune")
    listing, detail = page_text(client.get("/")), page_text(client.get("/books/dune/"))
    for text in (listing, detail):
        assert 'action="/cart/add/"' in text
        assert 'name="book" value="dune"' in text
    assert 'href="/checkout/dune/"' in listing
    assert 'name="quantity"' in detail and 'formaction="/checkout/dune/buy/"' in detail


def test_sold_out_books_show_sold_out_and_no_forms(client):
    BookFactory(slug="gone", title="Gone", stock=0)
    listing, detail = page_text(client.get("/")), page_text(client.get("/books/gone/"))
    for text in (listing, detail):
        assert "Sold out" in text
        assert 'value="gone"' not in text  # no add-to-cart button for it
        assert "/checkout/gone/" not in text


def test_quantity_input_on_the_book_page_stops_at_the_stock(client):
    BookFactory(slug="dune", stock=3)
    BookFactory(slug="plenty", stock=40)
    assert 'max="3"' in page_text(client.get("/books/dune/"))
    assert 'max="10"' in page_text(client.get("/books/plenty/"))


def test_header_counts_a_cart_made_elsewhere(client):
    """The count reads the cart of the cookie's session without loading the session itself."""
    line = CartLineFactory(quantity=4)
    client.cookies[settings.SESSION_COOKIE_NAME] = line.cart.session_id
    assert header_count(client.get("/")) == "4"
    CartFactory()  # someone else's empty cart changes nothing
    assert header_count(client.get("/")) == "4"


def test_a_session_started_by_the_page_itself_costs_no_count_query(rf, django_assert_num_queries):
    """The checkout page starts a session on a first visit; the header still costs nothing."""
    from django.contrib.sessions.backends.db import SessionStore

    from shop.cart.context_processors import cart

    request = rf.get("/")
    request.session = SessionStore()
    request.session.save()
    with django_assert_num_queries(0):
        assert cart(request)["cart_item_count"] == 0


@pytest.mark.parametrize("page", ["/", "/books/dune/"])
def test_adding_from_a_catalog_page_stays_there_with_a_confirmation(client, page):
    BookFactory(slug="dune", title="Dune")
    form = page_text(client.get(page))
    assert '<input type="hidden" name="next" value="' + page + '">' in form

    response = add(client, follow=True, book="dune", next=page)
    assert response.redirect_chain == [(page, 302)]
    text = page_text(response)
    assert "Added a copy of “Dune” to your cart." in text
    assert '<a href="/cart/">View your cart</a>' in text
    assert header_count(response) == "1"


def test_the_cart_says_when_a_price_changed_since_the_book_was_added(client):
    book = BookFactory(slug="dune", title="Dune", price_amount=2300)
    add(client, book="dune", quantity=2)
    assert "Price changed" not in page_text(client.get("/cart/"))

    book.price_amount = 2800
    book.save()
    text = page_text(client.get("/cart/"))
    assert "A price in your cart changed since you added the book" in text
    assert "Price changed: was $23.00, now $28.00." in text
    assert "$56.00" in text  # priced now as it will be paid

    update(client, book="dune", quantity=3)  # the shopper acted on the page with the new price
    assert "Price changed" not in page_text(client.get("/cart/"))
