"""CSRF tokens for kept pages: Django's format, from one read of the system's randomness.

Django draws each of a token's random characters with its own `secrets.choice`
(a system call each): 64 for a visitor without a CSRF cookie yet, a fifth of
what a kept page costs to serve. These tokens are the same thing made
faster — the alphabet, lengths and per-response mask of
django.middleware.csrf (the mask keeps the secret out of reach of
compression attacks) — and Django's CsrfViewMiddleware checks them like its
own; it also sets the cookie, as for `get_token`.
"""

import secrets

from django.http import HttpRequest
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
    mask = random_chars(CSRF_SECRET_LENGTH)
    return mask + "".join(map(MASKED.__getitem__, zip(secret, mask, strict=True)))
