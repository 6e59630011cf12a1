"""Run by tests/test_sqlite_concurrency.py in a fresh Python, on a SQLite file.

For each round: a shopper pays (create-intent, then the PaymentIntent is
confirmed on the emulator), then Stripe's payment_intent.succeeded webhook
and several loads of the success page hit the app at the same moment, each
in its own thread with its own database connection, as a threaded server
would. Prints one JSON line: every status code and every order's final status.
"""

import json
import sys
import threading
import time

import django

django.setup()

import stripe  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from payments.tests.checkout import one_book_body  # noqa: E402
from shop.catalog.models import Book  # noqa: E402
from shop.orders.models import Order  # noqa: E402

ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
SUCCESS_PAGES = 3
HOST = {"HTTP_HOST": "127.0.0.1"}


def signed_event(intent: dict, number: int) -> tuple[str, str]:
    event = {
        "id": f"evt_sqlite_race_{number}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": intent},
    }
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, settings.STRIPE_WEBHOOK_SECRET)
    return payload, header


def pay(shopper: Client, email: str) -> dict:
    answer = shopper.post(
        "/payments/create-intent/",
        json.dumps(one_book_body(Book.objects.get(slug="working-in-public"), email)),
        content_type="application/json",
        **HOST,
    )
    assert answer.status_code == 200, answer.content
    client_secret = answer.json()["clientSecret"]
    intent_id = client_secret.split("_secret_")[0]
    stripe_api = stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
    )
    stripe_api.v1.payment_intents.update(intent_id, params={"payment_method": "pm_card_visa"})
    return stripe_api.v1.payment_intents.confirm(intent_id).to_dict()


def race(shopper: Client, intent: dict, number: int) -> list[tuple[str, int]]:
    payload, header = signed_event(intent, number)
    success_url = (
        f"/payments/success/?payment_intent={intent['id']}"
        f"&payment_intent_client_secret={intent['client_secret']}"
    )
    start = threading.Barrier(1 + SUCCESS_PAGES)
    results: list[tuple[str, int]] = []

    def webhook() -> None:
        start.wait()
        response = Client(raise_request_exception=False).post(
            "/payments/webhook/",
            payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
            **HOST,
        )
        results.append(("webhook", response.status_code))

    def success_page() -> None:
        browser = Client(raise_request_exception=False)  # a failure is its 500, as a server answers
        browser.cookies = shopper.cookies  # the payer's session
        start.wait()
        results.append(("success", browser.get(success_url, **HOST).status_code))

    def in_thread(work) -> threading.Thread:
        def run() -> None:
            try:
                work()
            finally:
                connection.close()  # this thread's own connection

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    threads = [in_thread(webhook)] + [in_thread(success_page) for _ in range(SUCCESS_PAGES)]
    for thread in threads:
        thread.join(timeout=60)
    return sorted(results)


def main() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo_books", verbosity=0)
    journal_mode = connection.cursor().execute("PRAGMA journal_mode").fetchone()[0]
    answers = []
    for number in range(ROUNDS):
        shopper = Client()
        intent = pay(shopper, f"reader{number}@example.com")
        answers.append(race(shopper, intent, number))
    statuses = sorted(Order.objects.values_list("status", flat=True))
    print(json.dumps({"journal_mode": journal_mode, "answers": answers, "orders": statuses}))


if __name__ == "__main__":
    main()
