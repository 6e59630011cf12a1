"""Reads of discount codes."""

from datetime import datetime

from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher
from shop.vouchers.pricing import voucher_code_normalize, voucher_refusal


def voucher_get_by_code(*, code: str) -> Voucher | None:
    """The voucher with this code, in any case (None: no such code, or not a code at all)."""
    if not code:
        return None
    return Voucher.objects.filter(code__iexact=code).first()


def voucher_get_usable(
    *,
    code: str,
    subtotal_amount: int,
    currency: str,
    now: datetime | None = None,
    held_voucher_id: int | None = None,
) -> Voucher:
    """The voucher a shopper's `code` names, if it may be used on these books now.

    Raises VoucherRefused naming why not: not a code, unknown, inactive, not
    valid yet, expired, used up, another currency, or under its minimum.
    `held_voucher_id`: the voucher a use of which the shopper's unpaid order holds.
    """
    normalized = voucher_code_normalize(code)
    voucher = voucher_get_by_code(code=normalized)
    if voucher is None:
        raise VoucherRefused(
            f"We do not know the discount code {normalized}. Check how it is spelled.",
            reason=RefusalReason.UNKNOWN,
            code=normalized,
        )
    refusal = voucher_refusal(
        voucher=voucher,
        subtotal_amount=subtotal_amount,
        currency=currency,
        now=now,
        holds_use=voucher.pk == held_voucher_id,
    )
    if refusal is not None:
        raise refusal
    return voucher
