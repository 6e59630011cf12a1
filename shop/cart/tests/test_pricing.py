import pytest

from shop.cart.pricing import Totals, shipping_amount_for, totals_compute


@pytest.mark.parametrize(
    ("subtotal", "shipping"),
    [(0, 0), (1, 499), (2300, 499), (4999, 499), (5000, 0), (12000, 0)],
)
def test_flat_shipping_free_from_the_threshold(settings, subtotal, shipping):
    settings.SHIPPING_FLAT_AMOUNT = 499
    settings.SHIPPING_FREE_FROM = 5000
    assert shipping_amount_for(subtotal_amount=subtotal) == shipping


def test_shipping_follows_the_settings(settings):
    settings.SHIPPING_FLAT_AMOUNT = 250
    settings.SHIPPING_FREE_FROM = 0  # never free
    assert shipping_amount_for(subtotal_amount=1_000_000) == 250


def test_totals_add_lines_and_shipping(settings):
    settings.SHIPPING_FLAT_AMOUNT = 499
    settings.SHIPPING_FREE_FROM = 5000
    assert totals_compute(lines=[(2300, 1), (800, 2)]) == Totals(3900, 499, 4399)
    assert totals_compute(lines=[(2500, 2)]) == Totals(5000, 0, 5000)
    assert totals_compute(lines=[]) == Totals(0, 0, 0)


def test_default_shipping_settings():
    from django.conf import settings

    assert (settings.SHIPPING_FLAT_AMOUNT, settings.SHIPPING_FREE_FROM) == (499, 5000)
    assert settings.SESSION_COOKIE_AGE == 30 * 24 * 60 * 60
