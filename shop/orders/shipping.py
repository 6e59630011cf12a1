"""A shipping address as the checkout collects it and the order keeps it."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ShippingAddress:
    name: str
    line1: str
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, upper case
    line2: str = ""
    state: str = ""
    phone: str = ""

    def order_fields(self) -> dict[str, str]:
        """The Order fields holding it (`shipping_<part>`)."""
        return {f"shipping_{part}": value for part, value in asdict(self).items()}

    @classmethod
    def of_order(cls, order) -> "ShippingAddress":
        return cls(**{part: getattr(order, f"shipping_{part}") for part in cls.__dataclass_fields__})
