"""Where one request's time goes, in-process: cProfile over Django's test client.

    .venv/bin/python -m benchmarks.profile [--requests 500] [--top 25] [--page catalog]

`--page webhook` profiles the request (store the event, queue its task), then
`webhook_apply` the task's body (apply it to its order) on the events stored.

Same settings and freshly seeded database as `benchmarks.run` (production
settings, DEBUG off, Redis cache), without gunicorn or the network: it shows
the shop's own cost per request, by function, and its queries per request.
"""

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.run import WEBHOOK_SECRET, seed, shop_environment, signed_event


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="stripe_press_bench")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--page", default="", help="profile only pages whose name contains this")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative or tottime")
    args = parser.parse_args()
    import os

    with tempfile.TemporaryDirectory(prefix="stripe-press-profile-") as tmp:
        os.environ.update(shop_environment(db=args.db, static_root=Path(tmp) / "static"))
        seeded = seed(db=args.db, events=args.requests)
        from django.db import connection
        from django.test import Client

        client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
        shopper = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
        shopper.cookies.load(seeded["cookie"])
        slug = seeded["book"].slug
        orders = iter(seeded["orders"])

        def webhook():
            payload, signature = signed_event(next(orders), run="profile")
            return client.post(
                "/payments/webhook/",
                payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            )

        from payments.models import WebhookEvent
        from payments.tasks import webhook_event_apply

        received = iter([])

        def webhook_apply():
            # The task's body, in-process, on the events the "webhook" page stored and queued.
            return webhook_event_apply.call(next(received))

        pages = {
            "catalog": lambda: client.get("/"),
            "book": lambda: client.get(f"/books/{slug}/"),
            "checkout": lambda: client.get(f"/checkout/{slug}/"),
            "cart": lambda: shopper.get("/cart/"),
            "catalog-with-cart": lambda: shopper.get("/"),
            "order-page": lambda: client.get(seeded["order_page"]),
            "cart-checkout": lambda: shopper.get(seeded["cart_checkout"]),
            "webhook": webhook,
            "webhook_apply": webhook_apply,
        }
        assert WEBHOOK_SECRET
        for name, call in pages.items():
            if args.page and args.page not in name:
                continue
            if name == "webhook_apply":
                pks = list(WebhookEvent.objects.filter(outcome="received").values_list("pk", flat=True))
                if len(pks) < args.requests:
                    print(f"\n=== {name}: needs the webhook page's {args.requests} events (--page webhook)")
                    continue
                received = iter(pks)
            for _ in range(3):  # warm-up; a webhook's warm-up uses up orders or events, so only one
                if name.startswith("webhook"):
                    break
                call()
            queries: list[str] = []

            def record(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            # (CaptureQueriesContext cannot be used: each request resets the query log it reads.)
            with connection.execute_wrapper(record):
                response = call()
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for _ in range(args.requests - 1 if name.startswith("webhook") else args.requests):
                call()
            profiler.disable()
            per_request = (time.perf_counter() - started) / args.requests * 1000
            status = getattr(response, "status_code", response)  # a page's status, the task's outcome
            print(f"\n=== {name}: {status}, {len(queries)} queries, {per_request:.2f} ms/req")
            for sql in queries:
                print("   ", sql[:150])
            pstats.Stats(profiler, stream=sys.stdout).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
