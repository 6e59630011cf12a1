"""`make run`: the shop on http://127.0.0.1:8000 (PORT), with or without a Stripe account.

With STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY both empty (the default
.env) it runs in offline mode: it starts the local Stripe emulator
(tools/emulator.py), points the app at it, registers the app's webhook
endpoint with it and stops it when the server stops. With real test keys it
uses Stripe and prints the `stripe listen` command to forward webhooks.

Settings come from the environment and `.env`, read by config/env.py as
config/settings.py reads them: the environment wins over the file. PORT
(default 8000) moves the server, the registered webhook URL and the printed
URLs: `PORT=8001 make run`, or PORT=8001 in `.env`.

Next to the web server it runs what production runs beside it (README,
"Background work"): a task worker (`manage.py db_worker`, or `rqworker` with
TASKS_BACKEND=rq) that sends the emails, and the periodic job
(`manage.py sync_payments`) every SYNC_EVERY seconds.
Ctrl-C stops them all.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from config.env import env_load
from tools.emulator import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, emulator_start

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WEBHOOK_PATH = "/payments/webhook/"
# The periodic job's interval (production: a cron line or systemd timer, every 10 minutes).
SYNC_EVERY = 5 * 60
TEST_CARDS = """\
  Test cards (any future expiry, any 3-digit CVC):
    4242 4242 4242 4242  succeeds
    4000 0000 0000 0341  is declined
    4000 0027 6000 3184  asks for (simulated) 3-D Secure"""


def say(message: str = "") -> None:
    print(message, flush=True)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as runserver does
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def start_offline_emulator(*, port: int):
    """Start the emulator and point this process's environment (and Django's) at it."""
    log_dir = ROOT / ".localstripe"
    log_dir.mkdir(exist_ok=True)
    emulator = emulator_start(log_path=log_dir / "localstripe.log")
    webhook_secret = "whsec_" + secrets.token_hex(24)
    os.environ.update(
        STRIPE_API_BASE=emulator.url,
        STRIPE_SECRET_KEY=EMULATOR_SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=EMULATOR_PUBLISHABLE_KEY,
        STRIPE_WEBHOOK_SECRET=webhook_secret,
    )
    emulator.register_webhook(url=f"http://{HOST}:{port}{WEBHOOK_PATH}", secret=webhook_secret)
    return emulator


def prepare_database() -> None:
    """Migrate, load the books once, and on a fresh DEBUG database create a staff login."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from shop.catalog.models import Book

    call_command("migrate", interactive=False, verbosity=1)
    if not Book.objects.exists():  # never clobber the catalog staff have edited
        call_command("loaddata", "books", verbosity=1)
    users = get_user_model().objects
    if settings.DEBUG and not users.exists():
        password = secrets.token_urlsafe(12)
        users.create_superuser("admin", "admin@stripe-press.test", password)
        say(f"\nCreated the staff user 'admin' with password: {password}  (shown once; keep it)")
        say("Lost it? Set a new one: .venv/bin/python manage.py changepassword admin")
    elif not users.exists():
        say("\nNo staff user yet: create one with `.venv/bin/python manage.py createsuperuser`.")
    connections.close_all()


def start(*command: str) -> subprocess.Popen:
    """A manage.py command in its own process group (an autoreloader child stops with it)."""
    return subprocess.Popen([sys.executable, "manage.py", *command], cwd=ROOT, start_new_session=True)


def worker_command(tasks_backend: str) -> list[str]:
    if tasks_backend == "rq":
        return ["rqworker", "default"]
    return ["db_worker", "--interval", "1"]


def run_schedule(stopping: threading.Event) -> None:
    """The periodic job, as cron runs it in production: now, then every SYNC_EVERY seconds."""
    while not stopping.is_set():
        job = start("sync_payments")
        while job.poll() is None and not stopping.wait(0.5):
            pass
        stop_process_group(job)
        stopping.wait(SYNC_EVERY)


def run_server(*, port: int, tasks_backend: str) -> int:
    """runserver, the task worker and the periodic job; stopping one (or Ctrl-C) stops them all."""
    server = start("runserver", f"{HOST}:{port}")
    worker = start(*worker_command(tasks_backend)) if tasks_backend != "immediate" else None
    stopping = threading.Event()
    schedule = threading.Thread(target=run_schedule, args=(stopping,), name="schedule", daemon=True)
    schedule.start()
    if worker:
        command = " ".join(worker_command(tasks_backend))
        say(f"Worker:   manage.py {command} (pid {worker.pid}) sends the emails")
    say(f"Schedule: manage.py sync_payments now and every {SYNC_EVERY // 60} minutes")
    try:
        while server.poll() is None:
            if worker and worker.poll() is not None:
                say(f"The task worker stopped (exit {worker.returncode}); restarting it.")
                worker = start(*worker_command(tasks_backend))
            time.sleep(0.5)
        return server.returncode
    except KeyboardInterrupt:
        say("\nStopping…")
        return 0
    finally:
        stopping.set()
        schedule.join(timeout=15)
        if worker:
            stop_process_group(worker)
        stop_process_group(server)


def stop_process_group(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop runserver and its autoreloader child, which can outlive its parent."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process.poll()  # reap our child, or it lingers in the group as a zombie
            os.killpg(process.pid, 0)  # ProcessLookupError once the whole group is gone
            time.sleep(0.1)
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # same clean shutdown as Ctrl-C


def main() -> int:
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    env = env_load()
    try:
        port = env.int("PORT", default=DEFAULT_PORT)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        say(f"PORT must be a port number (1-65535), not {os.environ.get('PORT')!r}.")
        say("Check .env and your environment.")
        return 1
    secret_key = env.str("STRIPE_SECRET_KEY", default="")
    publishable_key = env.str("STRIPE_PUBLISHABLE_KEY", default="")
    debug = env.bool("DEBUG", default=False)
    offline = not secret_key and not publishable_key

    if bool(secret_key) != bool(publishable_key):
        say("Set both STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY (real Stripe test mode),")
        say("or leave both empty to use the local Stripe emulator. Check .env and your environment.")
        return 1
    if offline and not debug:
        say("Offline mode (no Stripe keys) needs DEBUG=True: the Stripe.js stand-in only loads in DEBUG.")
        say("Set DEBUG=True in .env, or set real Stripe test keys.")
        return 1
    if not port_is_free(HOST, port):
        say(f"Port {port} on {HOST} is already in use (another `make run`?). Stop that process first,")
        say("or use another port: PORT=8001 make run (or PORT=8001 in .env).")
        return 1

    emulator = start_offline_emulator(port=port) if offline else None
    try:
        prepare_database()
        from django.conf import settings

        say(f"\nShop:  http://{HOST}:{port}/")
        say(f"Admin: http://{HOST}:{port}/{settings.ADMIN_URL}")
        if emulator:
            say(f"\nOffline mode: payments go to the local Stripe emulator at {emulator.url}")
            say("(log: .localstripe/localstripe.log). No real payments, no Stripe account needed.")
            say(TEST_CARDS)
        elif settings.STRIPE_API_BASE:
            say(f"\nUsing the Stripe API at {settings.STRIPE_API_BASE} with the keys from your settings.")
        else:
            say("\nUsing Stripe with your keys. To receive webhooks locally, run in another terminal:")
            say(f"    stripe listen --forward-to localhost:{port}{WEBHOOK_PATH}")
            say("and set STRIPE_WEBHOOK_SECRET in .env to the whsec_… secret it prints (then restart).")
        say()
        return run_server(port=port, tasks_backend=settings.TASKS_BACKEND)
    finally:
        if emulator:
            emulator.stop()


if __name__ == "__main__":
    sys.exit(main())
