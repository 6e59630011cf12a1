"""What a discount code takes off, and whether it may be used: rules without side effects.

A code as typed is normalised (trimmed, upper case) and must look like one
(`voucher_code_normalize`), so whatever a shopper sends — 200 characters, NUL
bytes — is refused with a message before any lookup. The discount applies to
the books only, never to shipping, and never exceeds what they cost:
a percentage is rounded half up to the minor unit.
"""

from datetime import datetime

from django.utils import formats, timezone

from core.money import format_money
from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import CODE_MAX_LENGTH, CODE_PATTERN, Voucher, VoucherKind

INVALID_MESSAGE = (
    f"That is not a discount code: a code has at most {CODE_MAX_LENGTH} letters, digits, dashes "
    "or underscores."
)


def voucher_code_normalize(text: str) -> str:
    """The code as stored (upper case, trimmed); "" for none. Raises VoucherRefused (INVALID)."""
    code = (text or "").strip().upper()
    if code and not CODE_PATTERN.match(code):
        raise VoucherRefused(INVALID_MESSAGE, reason=RefusalReason.INVALID)
    return code


def voucher_discount_amount(*, voucher: Voucher, subtotal_amount: int) -> int:
    """Minor units off `subtotal_amount` (the books): at most the subtotal, never negative."""
    if subtotal_amount <= 0:
        return 0
    if voucher.kind == VoucherKind.PERCENT:
        off = (subtotal_amount * voucher.value + 50) // 100  # rounded half up, in integers
    else:
        off = voucher.value
    return max(0, min(off, subtotal_amount))


def _when(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "j F Y, H:i")


def voucher_refusal(
    *,
    voucher: Voucher,
    subtotal_amount: int,
    currency: str,
    now: datetime | None = None,
    holds_use: bool = False,
) -> VoucherRefused | None:
    """Why `voucher` cannot be used on books worth `subtotal_amount`, or None when it can.

    Uses are read as they are now: the use itself is taken later, by a
    conditional UPDATE (services.voucher_use_take), which has the last word.
    `holds_use`: one of the uses counted is this shopper's own (their unpaid
    order holds it), so the last use is still theirs.
    """
    now = now or timezone.now()
    code = voucher.code

    def refused(message: str, reason: str) -> VoucherRefused:
        return VoucherRefused(message, reason=reason, code=code)

    if not voucher.is_active:
        return refused(f"The discount code {code} is no longer active.", RefusalReason.INACTIVE)
    if voucher.valid_from and now < voucher.valid_from:
        return refused(
            f"The discount code {code} can be used from {_when(voucher.valid_from)}.",
            RefusalReason.NOT_YET_VALID,
        )
    if voucher.valid_until and now >= voucher.valid_until:
        return refused(
            f"The discount code {code} expired on {_when(voucher.valid_until)}.", RefusalReason.EXPIRED
        )
    if voucher.max_uses is not None and voucher.uses_count - holds_use >= voucher.max_uses:
        return refused(f"The discount code {code} has been used up.", RefusalReason.EXHAUSTED)
    if currency and currency != voucher.currency:
        return refused(
            f"The discount code {code} is for orders in {voucher.currency.upper()}.", RefusalReason.CURRENCY
        )
    if subtotal_amount < voucher.minimum_subtotal:
        short = format_money(voucher.minimum_subtotal - subtotal_amount, voucher.currency)
        minimum = format_money(voucher.minimum_subtotal, voucher.currency)
        return refused(
            f"The discount code {code} needs books worth {minimum} or more: add {short} more to use it.",
            RefusalReason.UNDER_MINIMUM,
        )
    return None
