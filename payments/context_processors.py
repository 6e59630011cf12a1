from django.conf import settings
from django.http import HttpRequest


def stripe_mode(request: HttpRequest) -> dict:
    """Tells every template whether the shop runs against a local emulator."""
    return {"stripe_offline_mode": settings.STRIPE_OFFLINE_MODE}
