"""How long the admin home takes to render its sales overview with 100,000 orders (target: < 300 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/stripe_press_bench \\
        .venv/bin/python benchmarks/sales_overview.py [--orders 100000] [--runs 20]

Uses the database in DATABASE_URL (PostgreSQL; the figures are meant for it):
migrates it, tops it up to `--orders` orders with `generate_sales_data`, then
renders the whole admin home (`/admin/?days=N`, as a superuser, so every
panel shows) through Django's test client, after two warm-up renders, and
prints the median and slowest time per period, and the queries per render.
Settings are the test suite's (config/settings_test.py: DEBUG off, no .env).
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings_test")

import django  # noqa: E402

TARGET_MS = 300


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from shop.orders.models import Order

    call_command("migrate", verbosity=0)
    missing = args.orders - Order.objects.count()
    if missing > 0:
        call_command("generate_sales_data", orders=missing, days=120)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    user, _ = get_user_model().objects.get_or_create(
        username="benchmark", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    print(f"{Order.objects.count()} orders, {connection.vendor}")
    worst = 0.0
    for days in (7, 30, 90):
        url = f"/admin/?days={days}"
        for _ in range(2):
            assert client.get(url).status_code == 200
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and b"sales-overview" in response.content
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        median = statistics.median(times)
        worst = max(worst, median)
        print(f"days={days:>2}: median {median:.0f} ms, slowest {max(times):.0f} ms, {len(queries)} queries")
    print(f"target < {TARGET_MS} ms: {'met' if worst < TARGET_MS else 'NOT met'}")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
