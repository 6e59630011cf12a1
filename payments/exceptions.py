"""Named payment errors. Views turn them into shopper-readable answers."""


class PaymentError(Exception):
    """Base class. `message` is safe to show to a shopper."""

    message = "The payment could not be processed."

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message


class StripeNotConfigured(PaymentError):
    message = "Payments are not configured on this shop yet. Please try again later."


class PaymentProviderUnavailable(PaymentError):
    """Stripe could not be reached, timed out, rate limited us or failed (5xx)."""

    message = "We could not reach our payment provider. Nothing was charged; please try again in a moment."


class PaymentRejected(PaymentError):
    """Stripe refused the request (4xx other than rate limiting)."""

    message = "Our payment provider refused this request. Nothing was charged."


class StripeObjectMissing(PaymentRejected):
    """Stripe has no such object (404): e.g. the keys now point at another account."""


class CheckoutUnavailable(PaymentError):
    """The order cannot be paid now (e.g. a payment is already under way)."""


class TotalChanged(PaymentError):
    """The total is not the one the shopper saw (another tab changed the cart, a price changed)."""

    message = "Your order total has changed. Check the new total and press Pay again."

    def __init__(
        self,
        *,
        total: int,
        currency: str,
        message: str | None = None,
        discount: int = 0,
        voucher_code: str = "",
    ):
        self.total, self.currency = total, currency
        self.discount, self.voucher_code = discount, voucher_code  # the discount in that total, if any
        super().__init__(message)


class RefundNotAllowed(PaymentError):
    """Staff asked for a refund this order cannot take (amount, status, stale page)."""

    message = "This order cannot be refunded."


class RefundFailed(PaymentError):
    """Stripe refused the refund, or could not be asked (outage). `message` is for staff."""

    message = "Stripe did not refund this order."


class RefundUnconfirmed(RefundFailed):
    """Stripe did not answer: the refund may or may not exist. Resending it is safe."""
