import factory

from shop.vouchers.models import Voucher, VoucherKind


class VoucherFactory(factory.django.DjangoModelFactory):
    """An active 10% code with no limits; `kind=VoucherKind.FIXED, value=500` is $5.00 off."""

    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = VoucherKind.PERCENT
    value = 10
    currency = "usd"
