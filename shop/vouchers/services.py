"""Taking and giving back uses of a discount code: each one conditional UPDATE of the voucher row.

`voucher_use_take` counts a use only while the code is active, within its
dates and under its maximum, in one statement: PostgreSQL re-checks the
WHERE clause on the row it locked, so concurrent checkouts can never take
more uses than there are, whatever the isolation level. The row stays locked
until the caller's transaction ends (the one that reserves stock and creates
the PaymentIntent), so takers of one code queue there, as they do on a book's
row. Callers (shop/orders/services.py) make sure each order takes and gives
back its use at most once.
"""

from django.db.models import F, Q
from django.utils import timezone

from shop.vouchers.exceptions import RefusalReason, VoucherRefused
from shop.vouchers.models import Voucher
from shop.vouchers.pricing import voucher_refusal


def voucher_use_take(*, voucher_id: int, within_limits: bool = True) -> bool:
    """Count one use; False (nothing counted) when the code is inactive, out of dates or used up.

    `within_limits=False` counts a use that happened already whatever the
    limits say (a payment Stripe took for an order canceled meanwhile).
    """
    vouchers = Voucher.objects.filter(pk=voucher_id)
    if within_limits:
        now = timezone.now()
        vouchers = vouchers.filter(
            Q(max_uses__isnull=True) | Q(uses_count__lt=F("max_uses")),
            Q(valid_from__isnull=True) | Q(valid_from__lte=now),
            Q(valid_until__isnull=True) | Q(valid_until__gt=now),
            is_active=True,
        )
    return vouchers.update(uses_count=F("uses_count") + 1, updated_at=timezone.now()) == 1


def voucher_use_return(*, voucher_id: int) -> None:
    """Give one use back (never below zero)."""
    Voucher.objects.filter(pk=voucher_id, uses_count__gt=0).update(
        uses_count=F("uses_count") - 1, updated_at=timezone.now()
    )


def voucher_take_refused(*, voucher_id: int) -> VoucherRefused:
    """Why `voucher_use_take` counted nothing, read after it (the row is locked by then)."""
    voucher = Voucher.objects.get(pk=voucher_id)
    refusal = voucher_refusal(voucher=voucher, subtotal_amount=voucher.minimum_subtotal, currency="")
    return refusal or VoucherRefused(
        f"The discount code {voucher.code} has been used up.",
        reason=RefusalReason.EXHAUSTED,
        code=voucher.code,
    )
