"""The one place order amounts are computed from lines: the cart page, the checkout page and
order creation all use it, so the total a shopper sees is the total charged.

A discount code takes its amount off the books (never off shipping);
shipping is worked out on the books before the discount, so a code never
costs a shopper their free shipping.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from core.money import format_money, minimum_charge_amount
from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher
from shop.vouchers.pricing import voucher_discount_amount
from shop.vouchers.selectors import voucher_get_usable


@dataclass(frozen=True)
class Totals:
    subtotal_amount: int  # the books, before any discount
    shipping_amount: int
    total_amount: int  # books - discount + shipping: what is charged
    discount_amount: int = 0
    voucher: Voucher | None = None  # the code applied, if any

    @property
    def voucher_code(self) -> str:
        return self.voucher.code if self.voucher else ""


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


def totals_compute(*, lines: Iterable[tuple[int, int]], voucher: Voucher | None = None) -> Totals:
    """Totals for (unit amount, quantity) lines, less `voucher`'s discount (checked by the caller)."""
    subtotal = sum(unit_amount * quantity for unit_amount, quantity in lines)
    shipping = shipping_amount_for(subtotal_amount=subtotal)
    discount = voucher_discount_amount(voucher=voucher, subtotal_amount=subtotal) if voucher else 0
    return Totals(
        subtotal_amount=subtotal,
        shipping_amount=shipping,
        total_amount=subtotal - discount + shipping,
        discount_amount=discount,
        voucher=voucher if discount else None,
    )


def totals_with_code(
    *, lines: list[tuple[int, int]], currency: str, code: str, held_voucher_id: int | None = None
) -> Totals:
    """Totals with the discount code `code` ("" for none) applied.

    Raises VoucherRefused naming why the code cannot be used on these lines,
    including when the discounted total would fall under the smallest amount
    a card payment may take (Stripe refuses those): nothing is charged wrongly.
    `held_voucher_id`: the voucher a use of which the shopper's unpaid order holds.
    """
    if not code:
        return totals_compute(lines=lines)
    subtotal = sum(unit_amount * quantity for unit_amount, quantity in lines)
    voucher = voucher_get_usable(
        code=code, subtotal_amount=subtotal, currency=currency, held_voucher_id=held_voucher_id
    )
    totals = totals_compute(lines=lines, voucher=voucher)
    minimum = minimum_charge_amount(currency)
    if totals.total_amount < minimum:
        raise VoucherRefused(
            f"With the discount code {voucher.code} the total would be "
            f"{format_money(totals.total_amount, currency)}, under the smallest card payment we can take "
            f"({format_money(minimum, currency)}). It cannot be used on this order.",
            reason=RefusalReason.BELOW_MINIMUM_CHARGE,
            code=voucher.code,
        )
    return totals
