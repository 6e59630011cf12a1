"""The kept pages' version in this host's shared memory (PAGE_CACHE_VERSION=host)."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import Client

from shop.cart.models import CartLine
from shop.catalog.models import Book
from shop.catalog.tests.factories import BookFactory
from shop.pagecache_version import PAGES, HostVersion, host_version_path, version_store

BUMP_FROM_ANOTHER_PROCESS = (
    "import sys; from pathlib import Path; from shop.pagecache_version import HostVersion; "
    "HostVersion(Path(sys.argv[1])).bump()"
)


def bump_in_another_process(path: Path) -> None:
    subprocess.run([sys.executable, "-c", BUMP_FROM_ANOTHER_PROCESS, str(path)], check=True, timeout=60)


def test_a_new_version_file_starts_from_the_clock(tmp_path):
    before = time.time_ns()
    assert HostVersion(tmp_path / "version").read() >= before


def test_a_bump_in_another_process_is_read_here_at_once(tmp_path):
    path = tmp_path / "version"
    here = HostVersion(path)
    version = here.read()

    bump_in_another_process(path)

    assert here.read() == version + 1


def test_each_bump_is_seen_by_every_mapping_of_the_file(tmp_path):
    first, second = HostVersion(tmp_path / "version"), HostVersion(tmp_path / "version")
    start = first.read()
    for _ in range(3):
        second.bump()
    assert first.read() == second.read() == start + 3


def test_the_default_file_is_one_per_database():
    shop = host_version_path("", {"HOST": "127.0.0.1", "PORT": 5432, "NAME": "shop"})
    other = host_version_path("", {"HOST": "127.0.0.1", "PORT": 5432, "NAME": "other_shop"})
    assert shop != other
    assert host_version_path("/run/pages", {"NAME": "shop"}) == Path("/run/pages")


@pytest.fixture
def host_version(settings, tmp_path) -> Path:
    settings.PAGE_CACHE_VERSION = "host"
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "pages-version")
    return tmp_path / "pages-version"


@pytest.mark.django_db
def test_an_admin_change_shows_at_once_with_the_host_version(host_version):
    book = BookFactory(title="The Dream Machine", price_amount=2300)
    Client().get("/")
    assert "$23.00" in Client().get("/").content.decode()

    book.price_amount = 3100
    book.save()

    assert "$31.00" in Client().get("/").content.decode()
    assert HostVersion(host_version).read() > 0


@pytest.mark.django_db
def test_a_change_made_by_another_process_reaches_the_kept_page(host_version):
    book = BookFactory(title="The Dream Machine")
    Client().get("/")
    Client().get("/")
    Book.objects.filter(pk=book.pk).update(
        title="Renamed elsewhere"
    )  # no signal here: the bump comes from afar

    assert (
        "Renamed elsewhere" not in Client().get("/").content.decode()
    )  # still kept: nothing said it changed
    bump_in_another_process(host_version)
    assert "Renamed elsewhere" in Client().get("/").content.decode()


@pytest.mark.django_db
def test_an_unusable_version_file_means_fresh_pages_not_errors(settings, tmp_path):
    settings.PAGE_CACHE_VERSION = "host"
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "no-such-directory" / "version")
    book = BookFactory(title="The Dream Machine")
    assert Client().get("/").status_code == 200
    Book.objects.filter(pk=book.pk).update(title="Renamed behind its back")
    assert "Renamed behind its back" in Client().get("/").content.decode()


@pytest.mark.django_db
def test_a_cart_changed_by_another_process_reaches_the_shoppers_next_page(host_version):
    book = BookFactory(title="The Dream Machine", stock=9)
    shopper = Client()
    shopper.post("/cart/add/", {"book": book.slug, "quantity": 2})
    shopper.get("/cart/")  # shows the "added" message
    assert 'cart-link__count">(2)' in shopper.get("/").content.decode()
    CartLine.objects.update(quantity=4)  # no bump here: it comes from afar, as from a task worker

    assert 'cart-link__count">(2)' in shopper.get("/").content.decode()  # remembered
    bump_in_another_process(host_version.with_name(host_version.name + "-carts"))
    assert 'cart-link__count">(4)' in shopper.get("/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["cache", "host"])
def test_the_carts_version_is_not_the_pages_one(settings, tmp_path, where):
    settings.PAGE_CACHE_VERSION = where
    settings.PAGE_CACHE_VERSION_FILE = str(tmp_path / "pages-version")
    pages, carts = version_store(PAGES), version_store("carts")
    pages_before, carts_before = pages.read(), carts.read()

    carts.bump()

    assert (pages.read(), carts.read()) == (pages_before, carts_before + 1)
