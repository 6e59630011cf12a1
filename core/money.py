"""Money rules: integer minor units + ISO currency -> display text, and Decimal <-> minor units.

Stripe takes amounts in the currency's smallest unit (cents; whole yen for
zero-decimal currencies). Staff type amounts in money ("5.00"): the
conversions here are exact, with Decimal, never floats.
"""

import re
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
# The currencies books are priced in: staff choose one (shown as its ISO code, upper case).
SUPPORTED_CURRENCIES = tuple(CURRENCY_SYMBOLS)
# The smallest amount Stripe charges, in minor units, where it is not 50 (Stripe's currency docs).
MINIMUM_CHARGES = {"gbp": 30, "dkk": 250, "nok": 300, "sek": 300, "hkd": 400, "mxn": 1000, "czk": 1500}
DEFAULT_MINIMUM_CHARGE = 50


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


def minimum_charge_amount(currency: str) -> int:
    """The smallest total a card payment may take in `currency`, in minor units (50 cents in USD)."""
    return MINIMUM_CHARGES.get(currency.lower(), DEFAULT_MINIMUM_CHARGE)


AMOUNT_PATTERN = re.compile(r"^\d{1,9}(\.\d+)?$")


def currency_decimals(currency: str) -> int:
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def amount_to_minor_units(*, text: str, currency: str) -> int:
    """ "5.00" USD -> 500; "500" JPY -> 500. ValueError with a message staff can read."""
    text = (text or "").strip()
    decimals = currency_decimals(currency)
    example = "5.00" if decimals else "500"
    if not AMOUNT_PATTERN.match(text):
        raise ValueError(f"Enter an amount like {example} (digits, and a dot for decimals).")
    minor = Decimal(text).scaleb(decimals)
    if minor != minor.to_integral_value():
        places = f"{decimals} decimal places" if decimals else "no decimals"
        raise ValueError(f"{currency.upper()} amounts have {places}, e.g. {example}.")
    if minor <= 0:
        raise ValueError("Enter an amount greater than zero.")
    return int(minor)


def minor_units_to_text(*, amount: int, currency: str) -> str:
    """500, "usd" -> "5.00": an amount as a form shows it (no symbol, no separators)."""
    decimals = currency_decimals(currency)
    return str(Decimal(amount).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals)))
