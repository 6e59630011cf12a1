"""Discount codes (vouchers): what staff set up in the admin, read by the cart and the checkout.

Amounts are minor units of the voucher's currency, like every amount in the
shop. `uses_count` is changed only by conditional UPDATEs
(shop/vouchers/services.py), never by a form.
"""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from core.money import format_money

CODE_MAX_LENGTH = 40
CODE_PATTERN = re.compile(rf"^[A-Z0-9][A-Z0-9_-]{{0,{CODE_MAX_LENGTH - 1}}}$")
PERCENT_MAX = 100
currency_validator = RegexValidator(r"^[a-z]{3}$", "Use a lowercase ISO 4217 code, e.g. usd.")


class VoucherKind(models.TextChoices):
    PERCENT = "percent", "Percentage off the books"
    FIXED = "fixed", "Fixed amount off the books"


class Voucher(models.Model):
    code = models.CharField(
        max_length=CODE_MAX_LENGTH,
        help_text="What shoppers type, in any case: letters, digits, dashes and underscores.",
    )
    kind = models.CharField(max_length=10, choices=VoucherKind.choices, default=VoucherKind.PERCENT)
    value = models.PositiveIntegerField(
        help_text="A percentage from 1 to 100, or an amount in minor units of the currency (500 = $5.00)."
    )
    currency = models.CharField(
        max_length=3,
        default="usd",
        validators=[currency_validator],
        help_text="Orders in this currency only (lowercase ISO code).",
    )
    minimum_subtotal = models.PositiveIntegerField(
        "minimum subtotal (minor units)", default=0, help_text="The books must come to this much (0: any)."
    )
    valid_from = models.DateTimeField(null=True, blank=True, help_text="Empty: from now on.")
    valid_until = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    max_uses = models.PositiveIntegerField(
        "maximum uses", null=True, blank=True, help_text="Uses in total, by anyone. Empty: no limit."
    )
    # Uses held by orders: taken when an order's PaymentIntent is created, given back when
    # that order is canceled or abandoned (or, if staff choose, fully refunded).
    uses_count = models.PositiveIntegerField("uses", default=0, editable=False)
    once_per_email = models.BooleanField(
        "once per email", default=False, help_text="Each email address may use it for one order."
    )
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Upper("code"),
                name="voucher_code_unique_any_case",
                violation_error_message="Another discount code is spelled the same (ignoring case).",
            ),
            models.CheckConstraint(
                condition=Q(kind=VoucherKind.FIXED, value__gte=1)
                | Q(kind=VoucherKind.PERCENT, value__gte=1, value__lte=PERCENT_MAX),
                name="voucher_value_in_range",
                violation_error_message="A percentage is from 1 to 100; an amount is more than zero.",
            ),
            models.CheckConstraint(
                condition=Q(uses_count__gte=0) & Q(minimum_subtotal__gte=0),
                name="voucher_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(max_uses__gte=1),
                name="voucher_max_uses_positive",
                violation_error_message="Allow at least one use, or leave the maximum empty.",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gt=F("valid_from")),
                name="voucher_valid_until_after_from",
                violation_error_message="The end of the validity must come after its start.",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[a-z]{3}$"), name="voucher_currency_iso_lower"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        """Field-named errors for staff (the constraints above say the same to the database)."""
        errors = {}
        self.code = (self.code or "").strip().upper()
        if self.code and not CODE_PATTERN.match(self.code):
            errors["code"] = (
                "Use letters, digits, dashes and underscores only, starting with a letter or digit."
            )
        if self.kind == VoucherKind.PERCENT and self.value is not None and not 1 <= self.value <= PERCENT_MAX:
            errors["value"] = f"A percentage is from 1 to {PERCENT_MAX}, not {self.value}."
        if self.kind == VoucherKind.FIXED and self.value is not None and self.value < 1:
            errors["value"] = "The amount off must be more than zero."
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            errors["valid_until"] = "The end of the validity must come after its start."
        if errors:
            raise ValidationError(errors)

    @property
    def value_display(self) -> str:
        if self.kind == VoucherKind.PERCENT:
            return f"{self.value}%"
        return format_money(self.value, self.currency)

    @property
    def uses_display(self) -> str:
        return f"{self.uses_count} of {self.max_uses}" if self.max_uses else str(self.uses_count)
