"""Deploy checks (`manage.py check --deploy`): links in emails must be absolute.

Emails are sent by a worker, with no request to take the shop's address from:
SITE_URL gives it. Unset with DEBUG off, emails fall back to https:// and the
first ALLOWED_HOSTS name (shop/orders/access.py): a warning names that address.
With no host to fall back to (ALLOWED_HOSTS only "*"), links would be relative
and open nowhere: an error.
"""

from django.conf import settings
from django.core.checks import Error, Warning, register

from shop.orders.access import site_url

HINT = "Set SITE_URL to the shop's public address, e.g. https://shop.example.com (see .env.example)."


@register(deploy=True)
def site_url_check(app_configs, **kwargs):
    if settings.SITE_URL:
        return []
    fallback = site_url()
    if fallback:
        return [
            Warning(
                f"SITE_URL is not set: links in emails use {fallback} (the first ALLOWED_HOSTS name).",
                hint=HINT,
                id="orders.W001",
            )
        ]
    return [
        Error(
            "SITE_URL is not set and ALLOWED_HOSTS names no host: links in emails would not open.",
            hint=HINT,
            id="orders.E001",
        )
    ]
