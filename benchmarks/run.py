"""The shop under load, the production way, beside a bare Django view: `make bench`.

    make bench                  # or: .venv/bin/python -m benchmarks.run [--duration 10] [--events 3000]

What it does, all on loopback, in about eight to nine minutes (about four of them the worker draining):
1. (Re)creates its own PostgreSQL database (`--db`, default stripe_press_bench;
   never the developer's), migrates it, loads the books, collects the static
   files into a temporary folder and seeds what the pages need: a shopper's
   session with a cart, and one pending order per webhook event.
2. Starts the shop with `gunicorn -c config/gunicorn.conf.py` (WEB_CONCURRENCY=2,
   from a virtualenv with requirements.txt only, .venv/runtime, made on first use;
   DEBUG off, access log on, every security setting at its production value;
   requests carry `X-Forwarded-Proto: https` as behind the TLS proxy the
   README asks for), with CACHE_URL on the local Redis (db 13, flushed), as
   the README's deployment section says. Beside it, the reference: a bare
   Django hello-world (benchmarks/reference/) under the same gunicorn config.
3. `wrk -t2 -c32 -d10s --latency` against each page, each between two runs
   of the reference (this VM's CPU speed swings by half within a minute):
   a page's ratio is to the mean of those two (over `--rounds`, the mean
   ratio), the webhooks' to a reference run right before them. Among the
   pages, the reference's server also sends the shop catalog's own answer
   (`catalog_response_save`): what a page of that size costs with no shop
   behind it. Then
   signed `payment_intent.succeeded` webhooks for distinct orders, 32 at a
   time, with wrk too (benchmarks/webhooks.lua: signed beforehand, each sent
   once), while `manage.py db_worker` (in a scheduling group of its own
   with a tenth of the CPU weight, as the README deploys it: `task_worker`)
   applies them; waits for the queue to drain ("applied N of N, drained in
   X s"); then a third of the events again (duplicates).
   Before the webhooks, it times 10,000 one-row commits alone (`commit_probe`):
   what a refund event's acknowledgement and each apply of the worker wait for
   (a payment_intent event's does not: payments/services/webhooks.py).
   With `--flask-original DIR` (a checkout of the Flask app the shop started
   from, e.g. `git clone https://github.com/marko-stripe/sa-takehome-project-python`,
   never part of this repository), that app is served too, by the same
   gunicorn config (`app:app`, Flask installed into .venv/flask on first use),
   and its home and checkout pages are measured like the shop's.
4. Prints one table (req/s, p50, p99, ratio to the reference, errors, and the
   server's own time per request from the access log: p99, max, how many
   over 50 ms; wrk's latency adds the wait for a free worker), checks
   every event was stored once and every order paid, and prints the workers'
   memory (RSS) before and after, and the load average.

Needs wrk (`apt-get install -y wrk`), PostgreSQL at 127.0.0.1:5432 (user
postgres) and Redis at 127.0.0.1:6379.
"""

import argparse
import hashlib
import hmac
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from benchmarks.reference.urls import CATALOG_RESPONSE

ROOT = Path(__file__).resolve().parent.parent
SHOP_PORT = 8611
REFERENCE_PORT = 8612
FLASK_PORT = 8613
FLASK_LIBRARIES = ROOT / ".venv" / "flask"
REDIS_URL = "redis://127.0.0.1:6379/13"
WEBHOOK_SECRET = "whsec_benchmark_only"
PROXY_HEADER = ("X-Forwarded-Proto", "https")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="stripe_press_bench", help="PostgreSQL database to (re)create")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per page")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of each page, each between two of the reference"
    )
    parser.add_argument(
        "--events",
        type=int,
        default=25_000,
        help="webhook events ready to send (distinct orders; more than a run sends)",
    )
    parser.add_argument("--only", default="", help="comma-separated row names to measure (all if empty)")
    parser.add_argument(
        "--flask-original",
        type=Path,
        help="a checkout of the Flask app the shop started from: its pages are measured too",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: install it with `apt-get install -y wrk` (Debian/Ubuntu).", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="stripe-press-bench-") as tmp:
        env = shop_environment(db=args.db, static_root=Path(tmp) / "static")
        os.environ.update(env)
        seeded = seed(db=args.db, events=args.events)
        logs = {"shop": Path(tmp) / "shop.log", "reference": Path(tmp) / "reference.log"}
        catalog_response = Path(tmp) / "catalog-response.json"
        with ExitStack() as servers:
            shop = servers.enter_context(server(env, port=SHOP_PORT, log=logs["shop"]))
            reference_env = {
                **env,
                "DJANGO_SETTINGS_MODULE": "benchmarks.reference.settings",
                CATALOG_RESPONSE: str(catalog_response),
            }
            servers.enter_context(
                server(
                    reference_env,
                    port=REFERENCE_PORT,
                    log=logs["reference"],
                    app="benchmarks.reference.wsgi:application",
                )
            )
            if args.flask_original:
                logs["flask"] = Path(tmp) / "flask.log"
                flask_path = os.pathsep.join(map(str, [flask_libraries(), args.flask_original.resolve()]))
                flask_env = {**env, "PYTHONPATH": flask_path}
                servers.enter_context(server(flask_env, port=FLASK_PORT, log=logs["flask"], app="app:app"))
            load_before = os.getloadavg()
            catalog_response_save(catalog_response)
            rows = measure(args, seeded, rss=lambda: workers_rss_mb(shop.pid), logs=logs)
            rss_after = workers_rss_mb(shop.pid)
            load_after = os.getloadavg()
        burst = next((row for row in rows if row["name"].startswith("webhook succeeded")), None)
        stored_ok = check_webhooks(burst)
    print_report(rows, rss_after=rss_after, load=(load_before, load_after), stored_ok=stored_ok)
    return 0 if stored_ok else 1


def shop_environment(*, db: str, static_root: Path) -> dict[str, str]:
    """Production settings (config/settings.py with DEBUG off), nothing read from .env."""
    return {
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "False",
        "SECRET_KEY": "benchmark-secret-" + "Vb7Tq2Xe" * 8,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "CACHE_URL": REDIS_URL,
        "BEHIND_TLS_PROXY": "True",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "STATIC_ROOT": str(static_root),
        "STRIPE_SECRET_KEY": "sk_test_benchmark_only",
        "STRIPE_PUBLISHABLE_KEY": "pk_test_benchmark_only",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_API_BASE": "",
        "EMAIL_URL": "dummymail://",
        "LOG_LEVEL": "INFO",
        "LOG_FORMAT": "plain",
        "WEB_CONCURRENCY": "2",
        "HOST": "127.0.0.1",
        "SITE_URL": "https://127.0.0.1",
        # wrk is one client address: no limit it could meet refuses it (a right key is not counted).
        "ORDER_PAGE_RATE_LIMIT_PER_IP": str(10**9),
    }


def seed(*, db: str, events: int) -> dict:
    """A fresh benchmark database with the books, a cart of every book and `events` pending orders."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db}"')
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()

    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.urls import NoReverseMatch, reverse

    from shop.cart.models import Cart, CartLine
    from shop.catalog.models import Book
    from shop.orders.models import Order, OrderItem

    call_command("migrate", verbosity=0)
    call_command("loaddata", "books", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    books = list(Book.objects.order_by("id"))
    for book in books:
        book.stock = 1_000_000  # every webhook's order stays payable
    Book.objects.bulk_update(books, ["stock"])

    session = SessionStore()
    session["has_cart"] = True
    session.create()
    cart = Cart.objects.create(session_id=session.session_key)
    CartLine.objects.bulk_create(CartLine(cart=cart, book=book, quantity=1) for book in books)

    book = books[0]
    orders = Order.objects.bulk_create(
        Order(
            email=f"bench{i}@example.com",
            currency=book.currency,
            total_amount=book.price_amount,
            payment_intent_id=f"pi_bench_{i:06d}",
        )
        for i in range(events)
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, book=book, title=book.title, unit_amount=book.price_amount) for order in orders
    )
    from shop.orders.access import order_page_path

    try:
        cart_checkout = reverse("payments:cart_checkout")
    except NoReverseMatch:
        cart_checkout = ""
    return {
        "book": book,
        "orders": [(o.id, o.number, o.payment_intent_id, o.total_amount, o.currency) for o in orders],
        "cookie": f"sessionid={session.session_key}",
        "cart_checkout": cart_checkout,
        "order_page": order_page_path(number=orders[0].number),
        "cart_lines": len(books),
    }


RUNTIME_VENV = ROOT / ".venv" / "runtime"


def runtime_python() -> str:
    """A Python with requirements.txt only, as in production (kept in .venv/runtime).

    The development environment has more: stripe-python, for one, loads aiohttp
    (which localstripe brings) when it finds it, ~10 MB per worker that a
    production install never has.
    """
    stamp = RUNTIME_VENV / "requirements.txt"
    wanted = (ROOT / "requirements.txt").read_text()
    if not stamp.exists() or stamp.read_text() != wanted:
        print("creating .venv/runtime (requirements.txt only) for the servers…")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(RUNTIME_VENV)], check=True)
        pip = [str(RUNTIME_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-r", str(ROOT / "requirements.txt")], check=True)
        stamp.write_text(wanted)
    return str(RUNTIME_VENV / "bin" / "python")


@contextmanager
def server(env: dict[str, str], *, port: int, log: Path, app: str = ""):
    """gunicorn -c config/gunicorn.conf.py [app] on 127.0.0.1:`port`, until the block ends.

    Without `app`, the shop's entry point the config names (config.wsgi).
    """
    with log.open("wb") as out:
        process = subprocess.Popen(
            [runtime_python(), "-m", "gunicorn", "-c", "config/gunicorn.conf.py", *filter(None, [app])],
            cwd=ROOT,
            env={**os.environ, **env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(port, process, log)
            yield process
        finally:
            process.terminate()
            process.wait(timeout=30)


def flask_libraries() -> Path:
    """Flask and python-dotenv for the Flask original, installed beside .venv/runtime on first use."""
    stamp = FLASK_LIBRARIES / ".installed"
    if not stamp.exists():
        print("installing Flask into .venv/flask for the Flask original…")
        pip = [runtime_python(), "-m", "pip", "install", "--quiet", "--target", str(FLASK_LIBRARIES)]
        subprocess.run([*pip, "flask", "python-dotenv"], check=True)
        stamp.touch()
    return FLASK_LIBRARIES


def wait_until_up(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn on {port} exited:\n{log.read_text()[-3000:]}")
        try:
            get(f"http://127.0.0.1:{port}/healthz")
            return
        except urllib.error.HTTPError:
            return  # it answers (the reference has no /healthz)
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn on {port} did not answer within 60 s")


# Headers of the catalog's answer the reference's server or view writes itself.
NOT_COPIED_HEADERS = {"server", "date", "connection", "content-length", "content-type", "set-cookie"}


def catalog_response_save(target: Path) -> None:
    """The shop catalog's answer as the reference's `catalog-bytes/` view sends it again."""
    request = urllib.request.Request(f"http://127.0.0.1:{SHOP_PORT}/", headers=dict([PROXY_HEADER]))
    with urllib.request.urlopen(request, timeout=10) as response:
        kept = {
            "body": response.read().decode(),
            "content_type": response.headers["Content-Type"],
            "headers": [(k, v) for k, v in response.headers.items() if k.lower() not in NOT_COPIED_HEADERS],
        }
    target.write_text(json.dumps(kept))


def get(url: str, cookie: str = "") -> int:
    request = urllib.request.Request(
        url, headers=dict([PROXY_HEADER], **({"Cookie": cookie} if cookie else {}))
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def measure(args, seeded: dict, *, rss, logs: dict[str, Path]) -> list[dict]:
    """wrk against each page, then the webhooks; `logs`: each server's log ("shop", "reference")."""
    shop = f"http://127.0.0.1:{SHOP_PORT}"
    slug = seeded["book"].slug
    cookie = seeded["cookie"]
    pages = [
        ("reference: bare Django view", f"http://127.0.0.1:{REFERENCE_PORT}/", "", "reference"),
        ("catalog /", f"{shop}/", "", "shared"),
        (
            "bare view sending the catalog's bytes",
            f"http://127.0.0.1:{REFERENCE_PORT}/catalog-bytes/",
            "",
            "bytes",
        ),
        ("book page", f"{shop}/books/{slug}/", "", "shared"),
        ("checkout page /checkout/<slug>/", f"{shop}/checkout/{slug}/", "", "shared"),
        (f"cart ({seeded['cart_lines']} lines)", f"{shop}/cart/", cookie, "shopper"),
        ("catalog / with a cart", f"{shop}/", cookie, "shopper"),
    ]
    pages.append(("order page (key in the link)", shop + seeded["order_page"], "", "shopper"))
    if seeded["cart_checkout"]:
        pages.append(("checkout /checkout/ with a cart", shop + seeded["cart_checkout"], cookie, "shopper"))
    if "flask" in logs:
        flask = f"http://127.0.0.1:{FLASK_PORT}"
        pages.append(("Flask original: home /", f"{flask}/", "", "flask"))
        pages.append(("Flask original: checkout /checkout?item=1", f"{flask}/checkout?item=1", "", "flask"))
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    pages = [page for page in pages if not only or page[3] == "reference" or any(o in page[0] for o in only)]
    statuses = [get(url, page_cookie) for _, url, page_cookie, _ in pages for _ in range(20)]  # warm-up
    print(f"workers' RSS after warming up: {', '.join(f'{mb:.0f} MB' for mb in rss())}")
    # This VM's CPU speed swings by half within a minute (other tenants): a page is compared with
    # the reference measured right before and right after it, never with one from minutes apart.
    reference_url = pages[0][1]
    load = {"duration": args.duration, "connections": args.connections}

    def reference_run() -> dict:
        return wrk(reference_url, cookie="", **load, server_log=logs["reference"])

    references, runs = [], {name: [] for name, *_ in pages[1:]}
    for _ in range(args.rounds):
        before = reference_run()
        references.append(before)
        for name, url, page_cookie, kind in pages[1:]:
            log = logs[{"bytes": "reference", "flask": "flask"}.get(kind, "shop")]
            result = wrk(url, cookie=page_cookie, **load, server_log=log)
            after = reference_run()
            references.append(after)
            runs[name].append(beside(result, before, after))
            before = after
    reference = max(references, key=lambda result: result["rps"])
    reference.update(name=pages[0][0], kind="reference", status=statuses[0], ratio=1.0)
    reference["runs"] = [(result["rps"], None) for result in references]
    rows = [reference]
    for (name, _, _, kind), status in zip(pages[1:], statuses[20::20], strict=True):
        row = max(runs[name], key=lambda result: result["rps"])
        row.update(name=name, kind=kind, status=status)
        row["ratio"] = statistics.mean(result["ratio"] for result in runs[name])
        row["runs"] = [(result["rps"], result["reference_rps"]) for result in runs[name]]
        rows.append(row)
    if not only or any("webhook" in o for o in only):
        print(commit_probe(), flush=True)
        with task_worker(log=Path(tempfile.gettempdir()) / f"stripe-press-bench-worker-{os.getpid()}.log"):
            # Before only: after the burst the worker is applying its events.
            before = reference_run()
            burst = webhooks(seeded, **load, server_log=logs["shop"], duplicate=False)
            rows.append(beside(burst, before))
            burst["note"] = " ".join(filter(None, [burst.get("note"), queue_drained()]))
            # Once applied, a redelivery is a duplicate: one statement, nothing queued.
            before = reference_run()
            duplicates = webhooks(seeded, **load, server_log=logs["shop"], duplicate=True)
            rows.append(beside(duplicates, before, reference_run()))
    return rows


def beside(result: dict, *references: dict) -> dict:
    """`result` with its ratio to the reference's runs right before (and after) it: their mean."""
    result["reference_rps"] = statistics.mean(reference["rps"] for reference in references)
    result["ratio"] = result["rps"] / result["reference_rps"]
    result["runs"] = [(result["rps"], result["reference_rps"])]
    return result


# The access log's request time (config/gunicorn.conf.py: `... %(B)s %(M)sms "%(a)s"`).
ACCESS_LOG_TIME = re.compile(r'" \d{3} \S+ (\d+)ms "')
SERVER_SLOW_MS = 50


@contextmanager
def server_times(log: Path):
    """The server's own time for the requests it logged in the block: {server_p99, server_max, server_slow}.

    gunicorn's access log records each request's time in the worker, from the
    request read to the response written: wrk's latency minus the wait in the
    listen queue for one of the two workers. So a slow server shows here, and
    a long queue does not.
    """
    start = log.stat().st_size
    times: dict = {}
    yield times
    with log.open("rb") as lines:
        lines.seek(start)
        taken = sorted(int(found.group(1)) for found in ACCESS_LOG_TIME.finditer(lines.read().decode()))
    if taken:
        times.update(
            server_p99=percentile(taken, 99),
            server_max=taken[-1],
            server_slow=sum(ms > SERVER_SLOW_MS for ms in taken),
        )


def percentile(ordered: list, percent: float):
    """The value `percent`% of `ordered` (sorted, not empty) are at or under, as wrk reports it."""
    return ordered[min(len(ordered) - 1, len(ordered) * round(percent * 10) // 1000)]  # in tenths: exact


COMMIT_PROBE_COMMITS = 10_000
COMMIT_STALL_MS = 20


def commit_probe() -> str:
    """PostgreSQL's commit on this machine, alone: one-row transactions, each waiting for its WAL flush.

    What a refund event's acknowledgement and each of the worker's applies wait
    for (a payment_intent event's does not: payments/services/webhooks.py). A
    flush the disk holds up holds up every such commit in flight.
    """
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE benchmark_commit_probe (id serial PRIMARY KEY)")
    taken = []
    for _ in range(COMMIT_PROBE_COMMITS):
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("INSERT INTO benchmark_commit_probe DEFAULT VALUES")
        taken.append((time.perf_counter() - started) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE benchmark_commit_probe")
    taken.sort()
    return (
        f"PostgreSQL commit alone ({len(taken):,} one-row commits): p50 {percentile(taken, 50):.2f} ms, "
        f"p99.9 {percentile(taken, 99.9):.2f} ms, max {taken[-1]:.0f} ms, "
        f"{sum(ms > COMMIT_STALL_MS for ms in taken)} over {COMMIT_STALL_MS} ms"
    )


LATENCY_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(
    url: str, *, cookie: str, duration: int, connections: int, server_log: Path, script: tuple | None = None
) -> dict:
    """wrk's figures for `url`, and the server's own times from `server_log` (`server_times`).

    `script` = (a Lua file, its arguments) makes the requests instead.
    """
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-H", ": ".join(PROXY_HEADER)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    arguments = []
    if script is not None:
        command += ["-s", str(script[0])]
        arguments = ["--", *script[1]]
    with server_times(server_log) as times:
        output = subprocess.run(
            [*command, url, *arguments], capture_output=True, text=True, check=True, timeout=duration + 30
        ).stdout

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if found is None:
            raise SystemExit(f"cannot read wrk's {percent}% latency:\n{output}")
        return float(found.group(1)) * LATENCY_UNITS[found.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    distinct = re.search(r"distinct deliveries sent: (\d+), wrapped: (yes|no)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "sent": int(distinct.group(1)) if distinct else None,
        "wrapped": bool(distinct) and distinct.group(2) == "yes",
        "p50": latency("50"),
        "p99": latency("99"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",
        **times,
    }


def signed_event(order: tuple, *, run: str) -> tuple[bytes, str]:
    order_id, number, intent_id, amount, currency = order
    event = {
        "id": f"evt_bench_{run}_{intent_id}",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount,
                "currency": currency,
                "status": "succeeded",
                "metadata": {"order_id": str(order_id), "order_number": number},
            }
        },
    }
    payload = json.dumps(event).encode()
    timestamp = int(time.time())
    signature = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={timestamp},v1={signature.hexdigest()}"


RUN_ID = str(int(time.time()))


def webhooks(seeded: dict, *, duration: int, connections: int, server_log: Path, duplicate: bool) -> dict:
    """Signed events for distinct orders with wrk for `duration` s; with `duplicate`, those delivered again.

    The same client as the pages and the reference (wrk, event-driven, in C), so
    the ratio compares the shop, not two clients: an aiohttp client in Python
    topped out at ~2,200 requests/s against the bare view on this machine,
    with wrk's ~5,500, and took a core the server needed. Every event is
    signed before the clock starts; benchmarks/webhooks.lua sends each once
    (there are more than a run can send) and says how many it sent.
    """
    if duplicate:
        stored = set(stored_event_intents())
        orders = [order for order in seeded["orders"] if order[2] in stored]
    else:
        orders = seeded["orders"]
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", prefix="stripe-press-webhooks-") as lines:
        for order in orders:
            payload, signature = signed_event(order, run=RUN_ID)
            lines.write(f"{signature}\t{payload.decode()}\n")
        lines.flush()
        result = wrk(
            f"http://127.0.0.1:{SHOP_PORT}/payments/webhook/",
            cookie="",
            duration=duration,
            connections=connections,
            server_log=server_log,
            script=(ROOT / "benchmarks" / "webhooks.lua", [lines.name, "2"]),
        )
    kind = "duplicates" if duplicate else "succeeded"
    result.update(name=f"webhook {kind} ({result['requests']:,} deliveries)", kind="webhook", status=200)
    if not duplicate and result["wrapped"]:
        result["note"] = f"ran out of events: raise --events above {len(orders)}"
    return result


def run_events():
    """This run's stored webhook events (their ids carry RUN_ID, signed_event)."""
    from payments.models import WebhookEvent

    return WebhookEvent.objects.filter(stripe_event_id__startswith=f"evt_bench_{RUN_ID}_")


def stored_event_intents() -> list[str]:
    """The PaymentIntent ids of this run's stored events."""
    return list(run_events().values_list("payment_intent_id", flat=True))


# An autogroup's nice 10 weighs 110 against a nice-0 group's 1024: the tenth of a share
# that the README's CPUWeight=10 gives the worker's cgroup (100 is a service's default).
WORKER_GROUP_NICE = 10


@contextmanager
def task_worker(*, log: Path):
    """`manage.py db_worker` beside gunicorn, with the CPU share the README deploys it with.

    The README's systemd unit gives the worker's cgroup `CPUWeight=10`: on
    shared cores the deliveries Stripe waits for come first, and applying an
    event may lag a burst. A process's nice only counts within its own
    scheduling group, and PostgreSQL's backends (which do the worker's queries) are in
    another, so here the worker gets a group of its own with that weight the
    way an unprivileged process can: a session of its own is an autogroup
    (Linux, kernel.sched_autogroup_enabled), niced as a whole. Where there
    are no autogroups it runs under `nice -n 10` in the benchmark's session.
    """
    autogroups = Path("/proc/sys/kernel/sched_autogroup_enabled")
    own_group = autogroups.exists() and autogroups.read_text().strip() == "1"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["nice", "-n", "10", runtime_python(), "manage.py", "db_worker", "--interval", "1"],
            cwd=ROOT,
            env=dict(os.environ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
        if own_group:
            Path(f"/proc/{process.pid}/autogroup").write_text(str(WORKER_GROUP_NICE))
        print(
            "task worker: "
            + (
                f"its own scheduling group at autogroup nice {WORKER_GROUP_NICE} (as CPUWeight=10)"
                if own_group
                else "nice -n 10 in this session (no autogroups on this machine)"
            ),
            flush=True,
        )
        try:
            yield process
        finally:
            process.terminate()  # SIGTERM: the running task finishes
            process.wait(timeout=60)
    log.unlink()


def queue_drained(*, timeout: float = 900) -> str:
    """Wait until the worker has applied every stored event of this run and emptied the queue; how long."""
    from django.db import connection
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from payments.models import WebhookEvent

    waiting = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
    events = run_events()
    started = time.perf_counter()
    while True:
        stored = events.count()
        applied = events.exclude(outcome=WebhookEvent.Outcome.RECEIVED).count()  # processed or failed
        if applied == stored and not DBTaskResult.objects.filter(status__in=waiting).exists():
            break
        if time.perf_counter() - started > timeout:
            break
        time.sleep(0.2)
    connection.close()
    elapsed = time.perf_counter() - started
    return f"applied {applied:,} of {stored:,} stored, drained in {elapsed:.1f} s after the burst"


def check_webhooks(burst: dict | None) -> bool:
    """Every delivery answered 2xx was stored, once, and processed, and its order paid."""
    from payments.models import WebhookEvent
    from shop.orders.models import Order

    if burst is None:
        return True
    events = run_events()
    stored, processed = events.count(), events.filter(outcome=WebhookEvent.Outcome.PROCESSED).count()
    intents = events.values_list("payment_intent_id", flat=True)
    paid = Order.objects.filter(payment_intent_id__in=intents, status="paid").count()
    acknowledged = burst["requests"] - burst["errors"]
    print(
        f"webhooks: {burst['sent']:,} distinct events sent, {acknowledged:,} answered 2xx, "
        f"{stored:,} stored, {processed:,} processed, {paid:,} orders paid"
    )
    return acknowledged <= stored == processed == paid <= burst["sent"]


def workers_rss_mb(master_pid: int) -> list[float]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


# Each shop page and the Flask original's page that did its job.
FLASK_COUNTERPARTS = (
    ("catalog /", "Flask original: home /"),
    ("book page", "Flask original: home /"),
    ("checkout page /checkout/<slug>/", "Flask original: checkout /checkout?item=1"),
)


def print_report(rows: list[dict], *, rss_after: list[float], load: tuple, stored_ok: bool) -> None:
    print()
    server = f"server p99 / max ms | over {SERVER_SLOW_MS} ms"
    runs = "each run, req/s (the reference beside it)"
    print(f"| what | req/s | p50 ms | p99 ms | × reference | errors | {server} | {runs} |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        ratio = f"{row['ratio']:.2f}×" if row["ratio"] is not None else "–"
        errors = str(row["errors"]) + (
            f" ({row['socket_errors']})"
            if "timeout 0" not in row["socket_errors"] and row["socket_errors"]
            else ""
        )
        figures = f"{row['rps']:,.0f} | {row['p50']:.1f} | {row['p99']:.1f}"
        server = (
            f"{row['server_p99']} / {row['server_max']} | {row['server_slow']}"
            if "server_max" in row
            else "– | –"
        )
        each_run = " / ".join(
            f"{rps:,.0f}" + (f" ({reference_rps:,.0f})" if reference_rps else "")
            for rps, reference_rps in row.get("runs", [])
        )
        print(f"| {row['name']} | {figures} | {ratio} | {errors} | {server} | {each_run or '–'} |")
    for row in rows:
        if row.get("note"):
            print(f"{row['name']}: {row['note']}")
    ratios = {row["name"]: row["ratio"] for row in rows}
    against = [
        f"{shop_page} {ratios[shop_page] / ratios[flask_page]:.2f}×"
        for shop_page, flask_page in FLASK_COUNTERPARTS
        if shop_page in ratios and flask_page in ratios
    ]
    if against:
        print("the shop's pages against the Flask original's (their ratios divided): " + ", ".join(against))
    print()
    print("shop workers' RSS after the run: " + ", ".join(f"{mb:.0f} MB" for mb in rss_after))
    print(
        "load average (1/5/15 min) before: {:.2f} {:.2f} {:.2f}; after: {:.2f} {:.2f} {:.2f}".format(
            *load[0], *load[1]
        )
    )
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; webhooks all stored once: {stored_ok}")


if __name__ == "__main__":
    sys.exit(main())
