"""The shopper's key to their order page: `/orders/<number>/?key=<access key>`.

No account is needed, as with Shopify's order status page: whoever holds the
link sees the order. The key is an HMAC-SHA256 of the order number under a
key derived from SECRET_KEY (Django's `salted_hmac`, with a salt of its own),
192 bits written as 32 URL-safe characters. Why derived rather than random
and stored:

- emails are sent later by a task, which must put the link in every email
  (confirmation, shipped, refunded); a random key exists only when the order
  is created, so it would have to be stored in a readable form for them;
- nothing secret is stored: the database (and its backups, and staff
  reading the admin) holds no key nor anything a key can be checked against
  offline; without SECRET_KEY no key can be made or tested.

Checking recomputes the key under SECRET_KEY, then under each of
SECRET_KEY_FALLBACKS, and compares in constant time, so rotating SECRET_KEY
(with the old one kept as a fallback for a while) keeps sent links working.
Rotating it with no fallback invalidates every link sent before.
"""

import base64

from django.conf import settings
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

ACCESS_KEY_SALT = "shop.orders.access_key"
ACCESS_KEY_LENGTH = 32  # characters of base64url: 192 bits


def _access_key_under(*, number: str, secret: str) -> str:
    digest = salted_hmac(ACCESS_KEY_SALT, number, secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).decode()[:ACCESS_KEY_LENGTH]


def order_access_key(*, number: str) -> str:
    """The access key of order `number` (the same every time it is asked for)."""
    return _access_key_under(number=number, secret=settings.SECRET_KEY)


def order_access_key_valid(*, number: str, key: str) -> bool:
    """Whether `key` opens order `number`'s page; compared in constant time."""
    if not isinstance(key, str) or len(key) != ACCESS_KEY_LENGTH:
        return False  # the length is public; nothing about the right key is learned
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        constant_time_compare(key, _access_key_under(number=number, secret=secret)) for secret in secrets
    )


def order_page_path(*, number: str) -> str:
    """The order page's path with its key (for pages the shopper is on)."""
    return f"{reverse('orders:detail', args=[number])}?key={order_access_key(number=number)}"


def site_url() -> str:
    """The shop's address for links in emails: SITE_URL, else https:// and the first ALLOWED_HOSTS
    name that is a host ("*" is not; ".example.com" is example.com); "" when there is none."""
    if settings.SITE_URL:
        return settings.SITE_URL
    for host in settings.ALLOWED_HOSTS:
        name = host.lstrip(".")
        if name and "*" not in name:
            return f"https://{name}"
    return ""


def order_page_url(*, number: str) -> str:
    """The order page's absolute URL (for emails): the site's address + the path with its key."""
    return site_url() + order_page_path(number=number)


def order_receipt_path(*, number: str) -> str:
    return f"{reverse('orders:receipt', args=[number])}?key={order_access_key(number=number)}"
