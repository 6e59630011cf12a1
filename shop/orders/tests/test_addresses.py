"""Addresses written as each country writes them, and checked against its rules (shop/orders/addresses.py)."""

import socket
from dataclasses import replace

import pytest

from shop.orders.addresses import (
    AddressInvalid,
    address_clean,
    address_lines,
    shipping_address_lines,
)
from shop.orders.shipping import ShippingAddress
from shop.orders.tests.factories import OrderFactory

LONDON = ShippingAddress(
    name="Ada Lovelace",
    line1="12 St James's Square",
    line2="Flat 3",
    city="London",
    postal_code="SW1Y 4JH",
    country="GB",
)
ARLINGTON = ShippingAddress(
    name="Grace Hopper",
    line1="1000 N Glebe Rd",
    city="Arlington",
    state="VA",
    postal_code="22201",
    country="US",
)
BERLIN = ShippingAddress(
    name="Konrad Zuse", line1="Hauptstraße 1", city="Berlin", postal_code="10115", country="DE"
)


def _with(address: ShippingAddress, **changes) -> ShippingAddress:
    return replace(address, **changes)


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """The address data ships with the package: any connection attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("the address data tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize(
    ("address", "lines"),
    [
        (LONDON, ["Ada Lovelace", "12 St James's Square", "Flat 3", "LONDON", "SW1Y 4JH", "UNITED KINGDOM"]),
        (ARLINGTON, ["Grace Hopper", "1000 N Glebe Rd", "ARLINGTON, VA 22201", "UNITED STATES"]),
        (BERLIN, ["Konrad Zuse", "Hauptstraße 1", "10115 BERLIN", "GERMANY"]),
    ],
    ids=["GB", "US", "DE"],
)
def test_lines_follow_the_country_order_capitals_and_name(address, lines):
    assert shipping_address_lines(address) == lines


def test_a_part_the_country_does_not_write_is_kept_in_the_street_lines():
    # Japan's Latin format has no city line; the ward the shopper typed still reaches the label.
    tokyo = ShippingAddress(
        name="Ada",
        line1="1-1 Chiyoda",
        city="Chiyoda-ku",
        state="Tokyo",
        postal_code="100-0001",
        country="JP",
    )
    lines = shipping_address_lines(tokyo)
    assert lines[0] == "Ada" and lines[-1] == "JAPAN"
    assert "Chiyoda-ku" in "\n".join(lines) and "100-0001" in lines


def test_an_address_in_its_own_script_follows_the_country_s_own_format():
    tokyo = ShippingAddress(
        name="山田太郎",
        line1="千代田1-1",
        city="千代田区",
        state="東京都",
        postal_code="100-0001",
        country="JP",
    )
    lines = shipping_address_lines(tokyo)
    assert lines[0] == "〒100-0001"  # Japanese order: postcode first, the name last before the country
    assert lines[-2:] == ["山田太郎", "JAPAN"]


def test_an_unknown_country_keeps_every_part_one_per_line():
    address = ShippingAddress(name="A", line1="1 Road", city="Town", postal_code="123", country="QQ")
    assert shipping_address_lines(address) == ["A", "1 Road", "123 Town", "QQ"]


@pytest.mark.django_db
def test_an_order_without_an_address_has_no_lines():
    assert address_lines(OrderFactory()) == []
    order = OrderFactory(
        shipping_name="Grace Hopper",
        shipping_line1="1000 N Glebe Rd",
        shipping_city="Arlington",
        shipping_state="VA",
        shipping_postal_code="22201",
        shipping_country="US",
    )
    assert address_lines(order) == ["Grace Hopper", "1000 N Glebe Rd", "ARLINGTON, VA 22201", "UNITED STATES"]


def test_a_valid_address_comes_back_normalised():
    assert address_clean(_with(LONDON, postal_code="sw1y 4jh")) == LONDON
    assert address_clean(_with(ARLINGTON, state="Virginia")) == ARLINGTON
    assert address_clean(BERLIN) == BERLIN


@pytest.mark.parametrize(
    ("address", "part", "words"),
    [
        (_with(LONDON, postal_code="12345"), "postal_code", ["postal code for the United Kingdom, like"]),
        (_with(ARLINGTON, postal_code="2220"), "postal_code", ["ZIP code for the United States"]),
        (_with(ARLINGTON, state=""), "state", ["Enter the state"]),
        (_with(ARLINGTON, state="Narnia"), "state", ["state in the United States, like"]),
        (_with(BERLIN, postal_code=""), "postal_code", ["Enter the postal code"]),
        (
            ShippingAddress(name="A", line1="Calle 1", city="Madrid", postal_code="28001", country="ES"),
            "state",
            ["province"],
        ),
    ],
    ids=["GB postcode", "US ZIP", "US no state", "US unknown state", "DE no postcode", "ES no province"],
)
def test_an_address_against_its_country_s_rules_names_the_part(address, part, words):
    with pytest.raises(AddressInvalid) as problem:
        address_clean(address)
    assert problem.value.part == part
    for word in words:
        assert word in problem.value.message


def test_parts_a_country_does_not_require_may_be_left_out():
    dublin = ShippingAddress(name="A", line1="1 Main St", city="Dublin", postal_code="", country="IE")
    assert address_clean(dublin) == dublin  # the Eircode is optional
