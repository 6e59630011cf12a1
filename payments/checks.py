"""Deploy checks (`manage.py check --deploy`): the Stripe settings and the public address webhooks need."""

from django.conf import settings
from django.core.checks import Warning, register

from payments.stripe_client import missing_stripe_settings


@register(deploy=True)
def stripe_settings_check(app_configs, **kwargs):
    warnings = [
        Warning(
            f"{name} is not set: the checkout page will say payments are unavailable.",
            hint="Set it in .env (see .env.example), or leave both Stripe keys empty with "
            "`make run` to use the local emulator.",
            id="payments.W001",
        )
        for name in missing_stripe_settings()
    ]
    if not settings.STRIPE_WEBHOOK_SECRET:
        warnings.append(
            Warning(
                "STRIPE_WEBHOOK_SECRET is not set: webhooks will be refused (400), and no payment "
                "is known until sync_payments reads it from Stripe.",
                hint="`python manage.py stripe_webhook_endpoint` creates the endpoint and prints its "
                "secret; `stripe listen` prints one for local testing.",
                id="payments.W002",
            )
        )
    if not settings.SITE_URL.startswith("https://"):
        site_url = repr(settings.SITE_URL) if settings.SITE_URL else "empty"
        warnings.append(
            Warning(
                f"SITE_URL is {site_url}, not an https URL: links in emails "
                "point nowhere useful, and Stripe delivers live-mode webhooks to https URLs only.",
                hint="Set SITE_URL to the shop's public address, e.g. https://shop.example.com.",
                id="payments.W003",
            )
        )
    return warnings
