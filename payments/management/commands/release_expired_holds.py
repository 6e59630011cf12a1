"""`python manage.py release_expired_holds`: give back the copies of unpaid orders whose hold ran out.

Run it every minute (the scheduler does; see payments/services/holds.py): a
hold lasts STOCK_RESERVATION_MINUTES, so copies are back on the shelf at most
a minute or so after it ends. Safe to repeat and to run while webhooks arrive.
"""

from django.core.management.base import BaseCommand

from payments.services.holds import holds_release_expired


class Command(BaseCommand):
    help = (
        "Cancel unpaid orders that have held their copies longer than STOCK_RESERVATION_MINUTES "
        "(and their PaymentIntents on Stripe), putting the copies back on the shelf."
    )

    def handle(self, *args, **options) -> None:
        count = holds_release_expired(report=self.stdout.write)
        self.stdout.write(self.style.SUCCESS(f"Expired holds: {count}."))
