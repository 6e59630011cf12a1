"""The one place order amounts are computed from lines: the cart page uses it now,
order creation at checkout uses it too, so the total a shopper sees is the total charged."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Totals:
    subtotal_amount: int
    shipping_amount: int
    total_amount: int


def shipping_amount_for(*, subtotal_amount: int) -> int:
    """Flat-rate shipping (SHIPPING_FLAT_AMOUNT), free from SHIPPING_FREE_FROM (0: never free).

    Minor units of the shop's currency, like every amount here.
    """
    if subtotal_amount <= 0:
        return 0
    free_from = settings.SHIPPING_FREE_FROM
    if free_from and subtotal_amount >= free_from:
        return 0
    return settings.SHIPPING_FLAT_AMOUNT


def totals_compute(*, lines: Iterable[tuple[int, int]]) -> Totals:
    """Totals for (unit amount, quantity) lines."""
    subtotal = sum(unit_amount * quantity for unit_amount, quantity in lines)
    shipping = shipping_amount_for(subtotal_amount=subtotal)
    return Totals(subtotal_amount=subtotal, shipping_amount=shipping, total_amount=subtotal + shipping)
