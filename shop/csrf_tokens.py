"""CSRF tokens for kept pages: Django's format, from one read of the system's randomness.

Django draws each of a token's random characters with its own `secrets.choice`
(a system call each): 64 for a visitor without a CSRF cookie yet, a fifth of
what a kept page costs to serve. These tokens are the same thing made
faster — the alphabet, lengths and per-response mask of
django.middleware.csrf (the mask keeps the secret out of reach of
compression attacks) — and Django's CsrfViewMiddleware checks them like its
own; it also sets the cookie, as for `get_token`.

A page answered before Django's handler (shop/pagecache_front.py) has no
CSRF middleware to read the cookie or write it again: `secret_well_formed`
tells a secret it can use as it is, and `csrf_cookie_header` writes the
cookie as the middleware does.
"""

import secrets
import time

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

ALPHABET = CSRF_ALLOWED_CHARS
# A byte at or above this would favour the alphabet's first characters: dropped, drawn again.
UNBIASED_BELOW = 256 - 256 % len(ALPHABET)
BYTE_TO_CHAR = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
BIASED_BYTES = bytes(range(UNBIASED_BELOW, 256))
# Masking adds a secret's and a mask's characters' positions in ALPHABET, modulo its length.
MASKED = {
    (secret, mask): ALPHABET[(ALPHABET.index(secret) + ALPHABET.index(mask)) % len(ALPHABET)]
    for secret in ALPHABET
    for mask in ALPHABET
}


def random_chars(count: int) -> str:
    """`count` characters of ALPHABET, each equally likely."""
    chars = b""
    while len(chars) < count:
        chars += secrets.token_bytes(count + 8).translate(BYTE_TO_CHAR, BIASED_BYTES)
    return chars[:count].decode()


def csrf_token(request: HttpRequest) -> str:
    """What django.middleware.csrf.get_token returns: the visitor's secret, freshly masked.

    A visitor without a (valid) CSRF cookie gets a new secret, which the CSRF
    middleware's process_response sends as the cookie.
    """
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = request.META["CSRF_COOKIE"] = random_chars(CSRF_SECRET_LENGTH)
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # as get_token: renew the cookie's expiry
    return masked(secret)


def masked(secret: str) -> str:
    """A form's token for `secret`: a fresh mask, then the secret shifted by it (Django's format)."""
    mask = random_chars(CSRF_SECRET_LENGTH)
    return mask + "".join(map(MASKED.__getitem__, zip(secret, mask, strict=True)))


def secret_well_formed(value: str) -> bool:
    """Whether a CSRF cookie's value is a secret as Django writes it: its length, of its alphabet."""
    return len(value) == CSRF_SECRET_LENGTH and not value.strip(ALPHABET)


# The cookie header with a stand-in for the secret, made by Django once per second (its expiry is
# dated to the second) and per settings: {second: header}.
SECRET_STAND_IN = "S" * CSRF_SECRET_LENGTH
_cookie_headers: dict[int, str] = {}


def csrf_cookie_header(secret: str) -> str:
    """The Set-Cookie value Django's CSRF middleware sends with `secret` now, as its handler writes it."""
    second = int(time.time())
    header = _cookie_headers.get(second)
    if header is None:
        response = HttpResponse()
        response.set_cookie(  # as CsrfViewMiddleware._set_csrf_cookie
            settings.CSRF_COOKIE_NAME,
            SECRET_STAND_IN,
            max_age=settings.CSRF_COOKIE_AGE,
            domain=settings.CSRF_COOKIE_DOMAIN,
            path=settings.CSRF_COOKIE_PATH,
            secure=settings.CSRF_COOKIE_SECURE,
            httponly=settings.CSRF_COOKIE_HTTPONLY,
            samesite=settings.CSRF_COOKIE_SAMESITE,
        )
        _cookie_headers.clear()
        header = _cookie_headers[second] = response.cookies[settings.CSRF_COOKIE_NAME].output(header="")
    return header.replace(SECRET_STAND_IN, secret, 1)


@receiver(setting_changed)
def _cookie_settings_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("CSRF_COOKIE_"):
        _cookie_headers.clear()
