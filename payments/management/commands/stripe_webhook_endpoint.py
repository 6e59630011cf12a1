"""`python manage.py stripe_webhook_endpoint`: set up or check the shop's webhook endpoint on Stripe.

    manage.py stripe_webhook_endpoint --url https://shop.example/payments/webhook/
    manage.py stripe_webhook_endpoint --check    # exit status 1 when something is wrong

Without --url: SITE_URL and the webhook's path. Setting up creates the
endpoint (and prints its signing secret, once) or updates the one found;
it exits 1 when what it cannot fix is wrong (another API version, several
endpoints for the URL). The work is in payments/services/webhook_endpoint.py.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.urls import reverse

from payments.services.webhook_endpoint import (
    EndpointSetUp,
    EndpointState,
    WebhookEndpointError,
    webhook_endpoint_set_up,
    webhook_endpoints_for_url,
    webhook_event_types,
)
from payments.stripe_client import STRIPE_API_VERSION


class Command(BaseCommand):
    help = (
        "Create or update the Stripe webhook endpoint for --url with the event types the shop "
        "handles and its API version, printing a new endpoint's signing secret; with --check, "
        "only report what is missing, extra, disabled or on another API version (exit status 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", help="The endpoint's URL (default: SITE_URL + the webhook's path, /payments/webhook/)."
        )
        parser.add_argument("--check", action="store_true", help="Change nothing: report, exit 1 if wrong.")

    def handle(self, *args, url: str | None, check: bool, **options) -> None:
        url = self._url(url)
        try:
            if check:
                self._check(url)
            else:
                self._set_up(url)
        except WebhookEndpointError as exc:
            raise CommandError(str(exc)) from exc

    def _url(self, url: str | None) -> str:
        if not url:
            if not settings.SITE_URL:
                raise CommandError("Give --url, or set SITE_URL (the shop's public address).")
            url = settings.SITE_URL + reverse("payments:webhook")
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError as exc:
            raise CommandError(f"{url!r} is not an http(s) URL.") from exc
        if not url.startswith("https://"):
            self.stderr.write(f"Note: {url} is not https; Stripe accepts only https URLs in live mode.")
        return url

    def _check(self, url: str) -> None:
        found = webhook_endpoints_for_url(url=url)
        if not found:
            raise CommandError(
                f"No webhook endpoint on the Stripe account for {url}. "
                f"Create it: python manage.py stripe_webhook_endpoint --url {url}",
                returncode=1,
            )
        self.stdout.write(f"Webhook endpoints for {url}: {len(found)}")
        problems = 0
        for state in found:
            self._describe(state)
            problems += len(state.problems)
        if len(found) > 1:
            problems += 1
            self.stdout.write(f"  ! {_several(found)}")
        if problems:
            raise CommandError(f"{problems} problem(s) with the webhook endpoint for {url}.", returncode=1)
        self.stdout.write(self.style.SUCCESS("OK: enabled, the shop's event types and API version."))

    def _describe(self, state: EndpointState) -> None:
        endpoint = state.endpoint
        version = endpoint.get("api_version") or "the account's default"
        events = len(endpoint.get("enabled_events") or [])
        self.stdout.write(
            f"{endpoint['id']}: {endpoint.get('status')}, API version {version}, {events} event types"
        )
        for problem in state.problems:
            self.stdout.write(f"  ! {problem}")

    def _set_up(self, url: str) -> None:
        result = webhook_endpoint_set_up(url=url)
        endpoint_id = result.state.endpoint["id"]
        if result.created:
            self._created(result, url)
        elif result.changed:
            self.stdout.write(self.style.SUCCESS(f"Updated webhook endpoint {endpoint_id} for {url}:"))
            for label, names in (("added", result.added), ("removed", result.removed)):
                if names:
                    self.stdout.write(f"  {label}: {', '.join(names)}")
            if result.enabled_again:
                self.stdout.write("  enabled again")
        else:
            self.stdout.write(f"Webhook endpoint {endpoint_id} for {url} is up to date.")
        if not result.created:
            self.stdout.write(
                "Its signing secret is unchanged (Stripe shows it only when an endpoint is created; "
                "the dashboard's endpoint page can reveal it)."
            )
        wrong = self._unfixable(result)
        if wrong:
            raise CommandError(" ".join(wrong), returncode=1)

    def _created(self, result: EndpointSetUp, url: str) -> None:
        endpoint = result.state.endpoint
        self.stdout.write(self.style.SUCCESS(f"Created webhook endpoint {endpoint['id']} for {url}"))
        self.stdout.write(f"  API version: {endpoint.get('api_version')}")
        self.stdout.write(f"  events ({len(webhook_event_types())}): {', '.join(webhook_event_types())}")
        self.stdout.write(
            "\nIts signing secret, shown this once (Stripe's dashboard can reveal it again):\n\n"
            f"    {result.secret}\n\n"
            "Set STRIPE_WEBHOOK_SECRET to it in the shop's environment (.env) and restart the web "
            "processes: until then the shop refuses Stripe's deliveries (400), and Stripe retries them."
        )

    def _unfixable(self, result: EndpointSetUp) -> list[str]:
        """What updating cannot put right, with what to do about it."""
        wrong = []
        state = result.state
        if state.other_version:
            endpoint_id = state.endpoint["id"]
            wrong.append(
                f"Endpoint {endpoint_id} builds its events with API version "
                f"{state.api_version or 'the account default'}; the shop reads {STRIPE_API_VERSION}, and "
                "Stripe cannot change an endpoint's version. Replace it: delete it (dashboard: Developers > "
                f"Webhooks, or `stripe webhook_endpoints delete {endpoint_id}`), run this command again to "
                "create a new one, and set STRIPE_WEBHOOK_SECRET to the secret it prints."
            )
        if result.others:
            wrong.append(_several([state, *result.others]))
        return wrong


def _several(found: list[EndpointState]) -> str:
    ids = ", ".join(state.endpoint["id"] for state in found)
    return (
        f"{len(found)} endpoints for this URL ({ids}): each signs with its own secret and the shop "
        "verifies one, so the others' deliveries fail. Delete all but one."
    )
