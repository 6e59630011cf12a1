"""Deploy checks (`manage.py check --deploy`): say which Stripe setting is missing."""

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
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        warnings.append(
            Warning(
                "STRIPE_WEBHOOK_SECRET is not set: webhooks will be refused (400).",
                hint="Use the secret printed by `stripe listen` or the dashboard's endpoint page.",
                id="payments.W002",
            )
        )
    return warnings
