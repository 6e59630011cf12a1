"""Where one request's time goes, in-process: cProfile over Django's test client.

    .venv/bin/python -m benchmarks.profile [--page catalog] [--requests 500] [--sort tottime]

Same production settings and freshly seeded database as `make bench`
(benchmarks/run.py: DEBUG off, PostgreSQL, Redis), without gunicorn or the
network: it prints each page's status, its queries and the functions its
time goes to. `--page webhook` profiles the delivery (verify, store, enqueue);
`--page webhook_apply` then the task's body on the events it stored.
"""

import argparse
import cProfile
import hashlib
import hmac
import os
import pstats
import sys
import tempfile
import time

from benchmarks.run import EVENT, POSTGRES, SHOP_SETTINGS, WEBHOOK_SECRET, seed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="stripe_press_bench", help="PostgreSQL database to (re)create")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25, help="functions listed per page")
    parser.add_argument("--page", default="", help="only the pages whose name contains this")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative or tottime")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stripe-press-profile-") as tmp:
        settings = dict(item.split("=", 1) for item in SHOP_SETTINGS.split())
        os.environ.update(settings, DATABASE_URL=f"{POSTGRES}/{args.db}", STATIC_ROOT=f"{tmp}/static")
        seeded = seed(events=args.requests * 2, db=args.db)
        profile_pages(args, seeded)
    return 0


def profile_pages(args, seeded: dict) -> None:
    from django.db import connection
    from django.test import Client

    from payments.models import WebhookEvent
    from payments.tasks import webhook_event_apply

    visitor, shopper = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    shopper.cookies.load(seeded["cookie"])
    slug, orders = seeded["slug"], iter(seeded["orders"])

    def webhook():
        order_id, number, intent, amount, currency = next(orders)
        created = int(time.time())
        payload = EVENT % {
            "order_id": order_id,
            "number": number,
            "intent": intent,
            "amount": amount,
            "currency": currency,
            "created": created,
        }
        digest = hmac.new(WEBHOOK_SECRET.encode(), f"{created}.{payload}".encode(), hashlib.sha256)
        signature = f"t={created},v1={digest.hexdigest()}"
        return visitor.post(
            "/payments/webhook/",
            payload,
            content_type="application/json",
            secure=True,
            HTTP_STRIPE_SIGNATURE=signature,
        )

    received = iter(())

    def webhook_apply():
        return webhook_event_apply.call(next(received))

    pages = {
        "catalog": lambda: visitor.get("/", secure=True),
        "book": lambda: visitor.get(f"/books/{slug}/", secure=True),
        "checkout": lambda: visitor.get(f"/checkout/{slug}/", secure=True),
        "cart": lambda: shopper.get("/cart/", secure=True),
        "cart-checkout": lambda: shopper.get("/checkout/", secure=True),
        "webhook": webhook,
        "webhook_apply": webhook_apply,
    }
    for name, call in pages.items():
        if args.page and args.page not in name:
            continue
        if name == "webhook_apply":
            pks = list(WebhookEvent.objects.filter(outcome="received").values_list("pk", flat=True))
            if len(pks) <= args.requests:
                print(f"\n=== {name}: needs more than {args.requests} stored events: run with --page webhook")
                continue
            received = iter(pks)
        elif not name.startswith("webhook"):
            for _ in range(3):  # warm-up: templates loaded, connections open
                call()
        queries: list[str] = []

        def record(execute, sql, params, many, context, queries=queries):
            queries.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            response = call()
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            call()
        profiler.disable()
        per_request = (time.perf_counter() - started) / args.requests * 1000
        status = getattr(response, "status_code", response)  # a page's status, or the task's result
        print(f"\n=== {name}: {status}, {len(queries)} queries, {per_request:.2f} ms per request")
        for sql in queries:
            print("   ", sql[:150])
        pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    sys.exit(main())
