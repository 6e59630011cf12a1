"""Money rules: the one formatter (minor units + ISO currency -> text) and decimal <-> minor units."""

from decimal import Decimal

# Currencies Stripe treats as zero-decimal (amounts are whole units).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def format_money(amount: int, currency: str) -> str:
    """Format `amount` (minor units, e.g. cents) in `currency`: 2300, "usd" -> "$23.00"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"amount must be an int of minor units, not {type(amount).__name__}")
    code = currency.lower()
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if code in ZERO_DECIMAL_CURRENCIES:
        number = f"{amount:,}"
    else:
        number = f"{amount // 100:,}.{amount % 100:02d}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code.upper()}"


def currency_decimal_places(currency: str) -> int:
    """Digits after the decimal point in `currency`'s usual notation: 2 for USD, 0 for JPY."""
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def minor_units_from_decimal(amount: Decimal, currency: str) -> int:
    """Decimal("23.00"), "usd" -> 2300; Decimal("500"), "jpy" -> 500.

    ValueError when `amount` has more decimals than the currency allows.
    """
    minor = amount.scaleb(currency_decimal_places(currency))
    if minor != minor.to_integral_value():
        raise ValueError(
            f"{currency.upper()} amounts have at most {currency_decimal_places(currency)} decimals."
        )
    return int(minor)


def minor_units_to_decimal(amount: int, currency: str) -> Decimal:
    """2300, "usd" -> Decimal("23.00"); 500, "jpy" -> Decimal("500")."""
    places = currency_decimal_places(currency)
    return Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))
