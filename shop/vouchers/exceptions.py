"""Why a discount code cannot be used: `message` is a sentence the shopper can read as it is."""

from django.db import models


class RefusalReason(models.TextChoices):
    INVALID = "invalid", "Not a discount code"
    UNKNOWN = "unknown", "Unknown"
    INACTIVE = "inactive", "Not active"
    NOT_YET_VALID = "not_yet_valid", "Not valid yet"
    EXPIRED = "expired", "Expired"
    EXHAUSTED = "exhausted", "Used up"
    CURRENCY = "currency", "Another currency"
    UNDER_MINIMUM = "under_minimum", "Under the minimum subtotal"
    USED_BY_EMAIL = "used_by_email", "Used with this email already"
    BELOW_MINIMUM_CHARGE = "below_minimum_charge", "Total below the smallest card payment"


class VoucherRefused(Exception):
    """The code was not applied (nothing taken, nothing discounted); `reason` is a RefusalReason."""

    def __init__(self, message: str, *, reason: str, code: str = ""):
        self.message, self.reason, self.code = message, reason, code
        super().__init__(message)
