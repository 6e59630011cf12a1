"""A shopper browsing a catalog larger than a page, in Chromium: the header's search box, results,
a book's subjects, a subject's pages, sort and "in stock only" (all plain links and GET forms),
with no axe-core violation on the way."""

import re

from shop.catalog.models import Book, Subject
from shop.catalog.tests.factories import BookFactory, SubjectFactory
from tests.e2e.accessibility import assert_no_axe_violations

WORKING_IN_PUBLIC = "Working in Public: The Making and Maintenance of Open Source"


def test_search_from_the_header_then_a_subject_then_its_pages_sorted_and_filtered(page):
    open_source = Subject.objects.get(slug="open-source")
    for n in range(1, 31):  # the shop's Working in Public and 30 more: two pages of the subject
        price, stock = 1000 + n * 10, 0 if n == 2 else 4
        BookFactory(
            title=f"Maintainers volume {n:02d}", price_amount=price, stock=stock, subjects=[open_source]
        )
    BookFactory(title="Nothing to do with it", subjects=[SubjectFactory(name="Cooking", slug="cooking")])

    page.goto("/")
    page.get_by_role("searchbox", name="Search books").fill("working in public")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search/\?q=working\+in\+public"))
    assert page.get_by_role("heading", level=1).inner_text() == "Books matching “working in public”"
    assert_no_axe_violations(page)

    page.get_by_role("link", name=WORKING_IN_PUBLIC, exact=True).click()
    page.get_by_role("navigation", name="Subjects").get_by_role("link", name="Open source").click()
    page.wait_for_url(re.compile(r"/subjects/open-source/$"))
    assert page.locator(".book-card").count() == 24
    assert page.locator("link[rel=next]").get_attribute("href") == "/subjects/open-source/?page=2"
    assert "Nothing to do with it" not in page.content()
    assert_no_axe_violations(page)

    page.get_by_label("Sort by").select_option("price")
    page.get_by_label("In stock only").check()
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/subjects/open-source/\?sort=price&in_stock=1$"))
    titles = page.locator(".book-card__link").all_inner_texts()
    assert titles[:2] == ["Maintainers volume 01", "Maintainers volume 03"]  # volume 02 is sold out

    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert (
        page.locator(".book-card__link").all_inner_texts()[-1]
        == "Working in Public: The Making and Maintenance of Open Source"
    )
    assert page.get_by_role("link", name="Page 2").get_attribute("aria-current") == "page"
    assert_no_axe_violations(page)


def test_an_absurd_search_gets_a_friendly_page(page):
    page.goto("/search/?q=" + "%21" * 40)
    assert "punctuation alone matches nothing" in page.locator("main").inner_text()
    assert Book.objects.exists()
    assert_no_axe_violations(page)
