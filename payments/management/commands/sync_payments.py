"""`python manage.py sync_payments`: reconcile orders and refunds with Stripe.

Run it every 5 minutes from cron or a systemd timer (see the README). It is
safe to repeat and to run while webhooks arrive. Every run first checks that
Stripe answers (even with nothing to reconcile) and exits non-zero when it
cannot be reached or refuses the key.
"""

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payments.services.reconciliation import payments_sync
from payments.services.webhooks import webhook_events_prune
from shop.orders.selectors import order_get_by_number

PRUNE_EVENTS_DAYS = 90


class Command(BaseCommand):
    help = (
        "Read the PaymentIntent of every pending, processing or failed order older than "
        "--older-than minutes from Stripe and apply it as a webhook would; cancel unpaid "
        "orders (and their PaymentIntents) older than --cancel-abandoned-after hours; "
        "settle refunds Stripe has not confirmed; queue again webhook events and emails whose task "
        "was lost or failed; optionally replay every failed webhook event now. "
        "With --prune-events, only delete old processed and ignored webhook events."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=10,
            metavar="MINUTES",
            help="Only orders and refunds created more than this many minutes ago (default 10), "
            "so payments under way are left to their webhooks.",
        )
        parser.add_argument(
            "--order", metavar="NUMBER", help="Only this order (any age or status), e.g. SP-7K3M9QXA."
        )
        parser.add_argument(
            "--cancel-abandoned-after",
            type=int,
            default=settings.ORDER_ABANDON_AFTER_HOURS,
            metavar="HOURS",
            help="Cancel unpaid (pending or failed) orders older than this, and their PaymentIntents "
            f"on Stripe (default ORDER_ABANDON_AFTER_HOURS={settings.ORDER_ABANDON_AFTER_HOURS}; "
            "0 cancels nothing).",
        )
        parser.add_argument(
            "--replay-failed-events",
            action="store_true",
            help="Apply now every stored webhook event whose apply failed, whatever its attempts "
            "(every run already queues again those that failed fewer than 5 times).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Read from Stripe and report; change nothing."
        )
        parser.add_argument(
            "--prune-events",
            nargs="?",
            type=int,
            const=PRUNE_EVENTS_DAYS,
            metavar="DAYS",
            help="Instead of syncing: delete processed and ignored webhook events received more than "
            f"DAYS days ago (default {PRUNE_EVENTS_DAYS}). Failed ones are kept for staff and replay.",
        )

    def handle(self, *args, **options) -> None:
        if options["prune_events"] is not None:
            return self._prune_events(days=options["prune_events"], dry_run=options["dry_run"])
        if options["older_than"] < 0 or options["cancel_abandoned_after"] < 0:
            raise CommandError("--older-than and --cancel-abandoned-after cannot be negative.")
        number = options["order"]
        if number and order_get_by_number(number=number) is None:
            raise CommandError(f"No order numbered {number}.")
        hours = options["cancel_abandoned_after"]
        summary = payments_sync(
            older_than=timedelta(minutes=options["older_than"]),
            abandon_after=timedelta(hours=hours) if hours else None,
            order_number=number,
            replay_failed_events=options["replay_failed_events"],
            dry_run=options["dry_run"],
            report=self.stdout.write,
        )
        prefix = "Dry run: " if options["dry_run"] else ""
        if summary.aborted:
            raise CommandError(f"Stripe could not be reached: {summary.aborted} ({prefix}{summary.line()})")
        self.stdout.write(self.style.SUCCESS(f"{prefix}{summary.line()}"))

    def _prune_events(self, *, days: int, dry_run: bool) -> None:
        if days < 1:
            raise CommandError("--prune-events needs at least 1 day.")
        deleted = webhook_events_prune(older_than=timedelta(days=days), dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            self.style.SUCCESS(
                f"Webhook events older than {days} days, processed or ignored: {verb} {deleted}."
            )
        )
