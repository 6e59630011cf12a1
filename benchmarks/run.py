"""`make bench`: the shop under load the production way, beside a bare Django view, in one run.

    make bench        # or: .venv/bin/python -m benchmarks.run [--duration 10] [--only catalog,webhook]

Seeds a database of its own (--db, --books N); runs the shop under `gunicorn -c config/gunicorn.conf.py`
(DEBUG off) with one `db_worker` per queue, and the reference (benchmarks/reference/) with no middleware
and with the shop's. wrk runs each page between two runs of the references (ratios to their mean), then
32 concurrent signed webhook deliveries and their duplicates. Prints one table, the web workers' RSS and
whether every event was stored and applied once (exit 1 if not). Servers run from .bench-venv
(requirements.txt only). Needs wrk, PostgreSQL on 127.0.0.1:5432 (user postgres), Redis on :6379.
"""

import argparse
import hashlib
import hmac
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOP_PORT, BARE_PORT, MIDDLEWARE_PORT = 8611, 8612, 8613
POSTGRES = "postgres://postgres@127.0.0.1:5432"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")  # flushed
WEBHOOK_SECRET = "whsec_benchmark_only"
PROXY_HEADER = ("X-Forwarded-Proto", "https")
QUEUES = ("webhooks", "emails,default")  # one db_worker per line, as the Procfile runs them
RUNTIME_VENV = ROOT / ".bench-venv"
RUN_ID = str(int(time.time()))
# Production settings (config/settings.py, DEBUG off); nothing is read from a .env file.
SHOP_SETTINGS = f"""
    ENV_FILE= DJANGO_SETTINGS_MODULE=config.settings DEBUG=False ALLOWED_HOSTS=127.0.0.1,localhost
    SECRET_KEY=benchmark-secret-{"Vb7Tq2Xe" * 8} CACHE_URL={REDIS_URL} TASKS_BACKEND=database
    BEHIND_TLS_PROXY=True FORWARDED_ALLOW_IPS=127.0.0.1 STRIPE_SECRET_KEY=sk_test_benchmark_only
    STRIPE_PUBLISHABLE_KEY=pk_test_benchmark_only STRIPE_WEBHOOK_SECRET={WEBHOOK_SECRET} STRIPE_API_BASE=
    EMAIL_URL=dummymail:// SITE_URL=https://127.0.0.1 LOG_FORMAT=plain WEB_CONCURRENCY=2 HOST=127.0.0.1
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="stripe_press_bench", help="PostgreSQL database to (re)create")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per row")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections per row")
    parser.add_argument("--events", type=int, default=20_000, help="distinct webhook events to sign")
    parser.add_argument("--books", type=int, default=0, help="made-up books beside the shop's three")
    parser.add_argument("--only", default="", help="comma-separated words: only the rows naming one")
    parser.add_argument("--drain-timeout", type=int, default=600, help="seconds to wait for the workers")
    parser.add_argument("--server-python", default="", help="Python for the servers (default: .bench-venv)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu).", file=sys.stderr)
        return 2
    python = args.server_python or runtime_python()
    with tempfile.TemporaryDirectory(prefix="stripe-press-bench-") as tmp:
        settings = dict(item.split("=", 1) for item in SHOP_SETTINGS.split())
        files = {"STATIC_ROOT": f"{tmp}/static", "MEDIA_ROOT": f"{tmp}/media"}
        os.environ.update(settings, DATABASE_URL=f"{POSTGRES}/{args.db}", **files)
        seeded = seed(events=args.events, db=args.db, books=args.books)
        gunicorn = [python, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"]
        reference = [*gunicorn, "benchmarks.reference.wsgi:application"]
        with ExitStack() as stack:
            shop = stack.enter_context(running(gunicorn, log=f"{tmp}/shop.log", port=SHOP_PORT))
            stack.enter_context(running(reference, log=f"{tmp}/bare.log", port=BARE_PORT))
            middleware = {"BENCH_REFERENCE_MIDDLEWARE": "shop"}
            stack.enter_context(running(reference, log=f"{tmp}/mw.log", port=MIDDLEWARE_PORT, env=middleware))
            for queue in QUEUES:  # below the web's CPU priority
                command = ["nice", "-n", "10", python, "manage.py", "db_worker", "--queue-name", queue]
                stack.enter_context(running(command, log=f"{tmp}/worker-{queue}.log"))
            rows, notes = measure(args, seeded)
            children = Path(f"/proc/{shop.pid}/task/{shop.pid}/children").read_text().split()
            status = [Path(f"/proc/{pid}/status").read_text() for pid in children]
            rss = [int(re.search(r"VmRSS:\s+(\d+) kB", text)[1]) / 1024 for text in status]
    burst = next((row for row in rows if row["name"] == "webhooks, new events"), None)
    applied_once = check_webhooks(burst, notes) if burst else True
    report(rows, notes, rss=rss)
    return 0 if applied_once else 1


def seed(*, events: int, db: str, books: int) -> dict:
    """A fresh database: the shop's books and `books` more (stock for every order), a shopper's cart,
    `events` pending orders."""
    import django
    import psycopg
    import redis

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{db}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from shop.catalog.models import Book
    from shop.orders.models import Order, OrderItem

    for command in (["migrate"], ["seed_catalog", "--books", str(books)], ["collectstatic", "--noinput"]):
        call_command(*command, verbosity=0)
    Book.objects.update(stock=1_000_000)  # every webhook's order stays payable
    books = list(Book.objects.order_by("id")[:3])  # the shop's own
    shopper = Client(HTTP_HOST="127.0.0.1")  # the cart filled through its own form, as a shopper fills it
    for book in books:
        response = shopper.post("/cart/add/", {"book": book.slug, "quantity": 1}, secure=True)
        if response.status_code >= 400:
            raise SystemExit(f"adding {book.slug} to the cart answered {response.status_code}")
    session = shopper.cookies[settings.SESSION_COOKIE_NAME].value
    book = books[0]
    priced = {"currency": book.currency, "total_amount": book.price_amount}
    numbered = ((f"bench{i}@example.com", f"pi_bench_{RUN_ID}_{i:06d}") for i in range(events))
    orders = Order.objects.bulk_create(Order(email=e, payment_intent_id=pi, **priced) for e, pi in numbered)
    line = {"book": book, "title": book.title, "unit_amount": book.price_amount}
    OrderItem.objects.bulk_create(OrderItem(order=order, **line) for order in orders)
    return {
        "slug": book.slug,
        "subject": book.subjects.order_by("slug").first().slug,
        "cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
        "orders": [(o.id, o.number, o.payment_intent_id, o.total_amount, o.currency) for o in orders],
    }


def runtime_python() -> str:
    """A Python with requirements.txt only, as production installs (.bench-venv; remade when it changes)."""
    python, wanted = RUNTIME_VENV / "bin/python", ROOT / "requirements.txt"
    stamp = RUNTIME_VENV / wanted.name
    if not stamp.exists() or stamp.read_text() != wanted.read_text():
        print("making .bench-venv (requirements.txt only) for the servers and workers…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", RUNTIME_VENV], check=True)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "-r", wanted], check=True)
        shutil.copyfile(wanted, stamp)
    return str(python)


@contextmanager
def running(command: list[str], *, log: str, port: int = 0, env: dict | None = None):
    """`command` in ROOT, its output in `log`, for the block; with `port`, once it answers there."""
    env = os.environ | (env or {}) | ({"PORT": str(port)} if port else {})
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while port and not answers(f"http://127.0.0.1:{port}/"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{' '.join(command)} did not start:\n{Path(log).read_text()[-3000:]}")
                time.sleep(0.2)
            yield process
        finally:
            process.terminate()  # SIGTERM: gunicorn and db_worker finish what they are doing
            process.wait(timeout=60)


def answers(url: str, cookie: str = "") -> int:
    """The HTTP status `url` answers with (0 if nothing answers)."""
    headers = dict([PROXY_HEADER], **({"Cookie": cookie} if cookie else {}))
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status
    except OSError as error:  # an HTTPError is an answer, with its status; anything else is none
        return getattr(error, "code", 0)


def measure(args, seeded: dict) -> tuple[list[dict], list[str]]:
    """The references; each page, then the webhooks, with their ratios to the reference runs around them."""
    shop, slug, cookie = f"http://127.0.0.1:{SHOP_PORT}", seeded["slug"], seeded["cookie"]
    pages = [
        ("catalog /", f"{shop}/", ""),
        ("subject page", f"{shop}/subjects/{seeded['subject']}/", ""),
        ("search for a common word", f"{shop}/search/?q=engineering", ""),
        ("book page", f"{shop}/books/{slug}/", ""),
        ("checkout page /checkout/<slug>/", f"{shop}/checkout/{slug}/", ""),
        ("cart page (session)", f"{shop}/cart/", cookie),
        ("cart checkout /checkout/ (session)", f"{shop}/checkout/", cookie),
    ]
    wanted = [word for word in args.only.split(",") if word]

    def references() -> list[dict]:
        names = {BARE_PORT: "reference: bare Django view", MIDDLEWARE_PORT: "reference: + the middleware"}
        return [wrk(f"http://127.0.0.1:{port}/", args) | {"name": name} for port, name in names.items()]

    def beside(name: str, row: dict) -> None:
        nonlocal before
        after = references()
        means = [statistics.mean([b["rps"], a["rps"]]) for b, a in zip(before, after, strict=True)]
        rows.append(row | {"name": name, "ratios": [row["rps"] / mean for mean in means]})
        before = after

    rows, notes = list(before := references()), []  # the references' first runs head the table
    for name, url, page_cookie in pages:
        if not wanted or any(word in name for word in wanted):
            if (status := answers(url, page_cookie)) != 200:
                raise SystemExit(f"{name}: {url} answered {status}, not 200")
            beside(name, wrk(url, args, cookie=page_cookie))
    if not wanted or any(word in "webhooks" for word in wanted):
        beside("webhooks, new events", webhooks(seeded, args, duplicate=False))
        started, received = time.monotonic(), run_events().filter(outcome="received")
        while (waiting := received.count()) and time.monotonic() < started + args.drain_timeout:
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        notes.append(f"workers: {waiting:,} events not applied yet {elapsed:.1f} s after the burst")
        beside("webhooks, duplicates", webhooks(seeded, args, duplicate=True))
    return rows, notes


def wrk(url: str, args, *, cookie: str = "", script: list[str] | None = None) -> dict:
    """wrk's requests/s, p50 and p99 (ms), requests and non-2xx answers for `url`."""
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--latency"]
    command += ["-H", ": ".join(PROXY_HEADER), *(["-H", f"Cookie: {cookie}"] if cookie else [])]
    command += ["-s", script[0], url, "--", *script[1:]] if script else [url]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=args.duration + 60
    ).stdout
    figures = re.search(r"(\d+) requests in.*Requests/sec:\s+([\d.]+)", output, re.S)
    units = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
    found = re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    latencies = {percent: float(number) * units[unit] for percent, number, unit in found}
    if figures is None or len(latencies) != 2:
        raise SystemExit(f"cannot read wrk's output:\n{output}")
    distinct = re.search(r"distinct deliveries sent: (\d+), wrapped: (yes|no)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rps": float(figures.group(2)), "requests": int(figures.group(1))} | {
        **{f"p{percent}": milliseconds for percent, milliseconds in latencies.items()},
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
        "sent": int(distinct.group(1)) if distinct else None,
        "wrapped": bool(distinct) and distinct.group(2) == "yes",
    }


EVENT = (  # a `payment_intent.succeeded` as Stripe sends it, for one seeded order
    '{"id": "evt_%(intent)s", "object": "event", "type": "payment_intent.succeeded", "livemode": false, '
    '"created": %(created)d, "data": {"object": {"id": "%(intent)s", "object": "payment_intent", '
    '"amount": %(amount)d, "amount_received": %(amount)d, "currency": "%(currency)s", "status": "succeeded", '
    '"metadata": {"order_id": "%(order_id)d", "order_number": "%(number)s"}}}}'
)


def webhooks(seeded: dict, args, *, duplicate: bool) -> dict:
    """Signed deliveries with wrk (webhooks.lua): each event sent once; with `duplicate`, the stored ones."""
    orders = seeded["orders"]
    if duplicate:
        stored = set(run_events().values_list("stripe_event_id", flat=True))
        orders = [order for order in orders if f"evt_{order[2]}" in stored]
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="stripe-press-webhooks-") as lines:
        for order in orders:
            fields = dict(zip(("order_id", "number", "intent", "amount", "currency"), order, strict=True))
            created = int(time.time())
            payload = EVENT % (fields | {"created": created})
            digest = hmac.new(WEBHOOK_SECRET.encode(), f"{created}.{payload}".encode(), hashlib.sha256)
            lines.write(f"t={created},v1={digest.hexdigest()}\t{payload}\n")
        lines.flush()
        script = [str(ROOT / "benchmarks" / "webhooks.lua"), lines.name, "2"]
        return wrk(f"http://127.0.0.1:{SHOP_PORT}/payments/webhook/", args, script=script)


def run_events():
    from payments.models import WebhookEvent  # once django.setup() has run

    return WebhookEvent.objects.filter(stripe_event_id__startswith=f"evt_pi_bench_{RUN_ID}_")


def check_webhooks(burst: dict, notes: list[str]) -> bool:
    """Every acknowledged delivery stored once, every stored event processed, each order paid once."""
    from shop.orders.models import Order, OrderStatusChange

    events, orders = run_events(), Order.objects.filter(payment_intent_id__startswith=f"pi_bench_{RUN_ID}_")
    stored, processed = events.count(), events.filter(outcome="processed").count()
    paid = orders.filter(status="paid").count()
    moves = OrderStatusChange.objects.filter(order__in=orders, to_status="paid").count()
    acknowledged = burst["requests"] - burst["errors"]
    notes.append(
        f"webhooks: {burst['sent']:,} distinct events sent, {acknowledged:,} acknowledged, "
        f"{stored:,} stored, {processed:,} processed, {paid:,} orders paid, {moves:,} moves to paid"
    )
    notes += ["the burst ran out of events and sent some twice: raise --events"] if burst["wrapped"] else []
    stored_once = burst["wrapped"] or acknowledged <= stored <= burst["sent"]
    ok = stored_once and stored == processed == paid == moves
    notes.append(f"every event stored once and applied once: {'yes' if ok else 'NO'}")
    return ok


def report(rows: list[dict], notes: list[str], *, rss: list[float]) -> None:
    print("\n| what | req/s | p50 ms | p99 ms | × bare view | × view + middleware | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratios = " | ".join(f"{ratio:.2f}×" for ratio in row.get("ratios", [])) or "– | –"
        figures = f"{row['rps']:,.0f} | {row['p50']:.1f} | {row['p99']:.1f}"
        print(f"| {row['name']} | {figures} | {ratios} | {row['errors']} |")
    print("\n" + "\n".join(notes))
    print(f"shop web workers' RSS: {', '.join(f'{mb:.0f} MB' for mb in rss)}; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
