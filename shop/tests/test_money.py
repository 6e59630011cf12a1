import pytest

from shop.money import format_money


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
