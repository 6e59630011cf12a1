import pytest

from core.money import amount_to_minor_units, format_money, minor_units_to_text


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (2300, "usd", "$23.00"),
        (5, "usd", "$0.05"),
        (0, "usd", "$0.00"),
        (1999, "eur", "€19.99"),
        (2300, "USD", "$23.00"),
        (500, "jpy", "¥500"),
        (1234567, "jpy", "¥1,234,567"),
        (123456789, "usd", "$1,234,567.89"),
        (100000, "eur", "€1,000.00"),
        (2300, "chf", "23.00 CHF"),
        (1234500, "sek", "12,345.00 SEK"),
        (1500, "krw", "1,500 KRW"),
    ],
)
def test_format_money(amount, currency, expected):
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (-2300, "usd", "-$23.00"),
        (-5, "eur", "-€0.05"),
        (-1234567, "jpy", "-¥1,234,567"),
        (-250, "chf", "-2.50 CHF"),
    ],
)
def test_format_money_negative(amount, currency, expected):
    assert format_money(amount, currency) == expected


@pytest.mark.parametrize("amount", [23.0, 23.5, True, False, "2300", None])
def test_format_money_refuses_non_integer_amounts(amount):
    with pytest.raises(TypeError, match="int of minor units"):
        format_money(amount, "usd")


def test_money_template_tag_uses_the_formatter():
    from django.template import Context, Template

    template = Template("{% load money %}[{% money amount currency %}]")
    assert template.render(Context({"amount": 123456, "currency": "usd"})) == "[$1,234.56]"
    assert template.render(Context({"amount": None, "currency": "usd"})) == "[—]"


# --- what staff type (major units) to exact integer minor units, and back ---------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("5.00", "usd", 500),
        ("5", "usd", 500),
        ("5.5", "eur", 550),
        (" 0.01 ", "usd", 1),
        ("19.99", "gbp", 1999),
        ("1234567.89", "usd", 123456789),
        ("500", "jpy", 500),
        ("500.0", "jpy", 500),
    ],
)
def test_amounts_are_converted_exactly(text, currency, minor):
    assert amount_to_minor_units(text=text, currency=currency) == minor


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("0.1.0", "usd", "Enter an amount like 5.00"),
        ("-5.00", "usd", "Enter an amount like 5.00"),
        ("5.00 USD", "usd", "Enter an amount like 5.00"),
        ("1e3", "usd", "Enter an amount like 5.00"),
        ("", "usd", "Enter an amount like 5.00"),
        ("0.005", "usd", "USD amounts have 2 decimal places, e.g. 5.00."),
        ("500.5", "jpy", "JPY amounts have no decimals, e.g. 500."),
        ("0", "usd", "Enter an amount greater than zero."),
    ],
)
def test_amounts_staff_did_not_mean_are_refused(text, currency, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        amount_to_minor_units(text=text, currency=currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"), [(2300, "usd", "23.00"), (5, "usd", "0.05"), (500, "jpy", "500")]
)
def test_the_prefilled_amount_is_written_as_staff_type_it(minor, currency, text):
    assert minor_units_to_text(amount=minor, currency=currency) == text
    assert amount_to_minor_units(text=text, currency=currency) == minor


def test_smallest_card_payments():
    from core.money import minimum_charge_amount

    assert minimum_charge_amount("usd") == 50
    assert minimum_charge_amount("GBP") == 30
    assert minimum_charge_amount("jpy") == 50
    assert minimum_charge_amount("xyz") == 50
