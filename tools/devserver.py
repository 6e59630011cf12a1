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

Next to the web server it runs the other processes of the top-level
Procfile, as production runs them: the task workers (`manage.py db_worker`
per queue, or `rqworker` on the same queues with TASKS_BACKEND=rq) and the
scheduler of the periodic jobs. `runserver` stands in for the Procfile's
gunicorn. A process that stops is started again; Ctrl-C stops them all.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from config.env import env_load
from tools.emulator import EMULATOR_PUBLISHABLE_KEY, EMULATOR_SECRET_KEY, emulator_start

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WEBHOOK_PATH = "/payments/webhook/"
PROCFILE = ROOT / "Procfile"
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
    """Migrate, add the books and their covers once, and on a fresh DEBUG database create a staff login."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", interactive=False, verbosity=1)
    call_command("load_demo_books", "--if-empty")  # never over the catalog staff have edited
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


def procfile_processes(procfile: Path = PROCFILE) -> dict[str, str]:
    """The Procfile's processes: name -> shell command."""
    processes = {}
    for line in procfile.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line)
        if match:
            processes[match.group(1)] = match.group(2).strip()
    return processes


def dev_command(command: str, tasks_backend: str) -> str | None:
    """A Procfile worker or scheduler command as `make run` runs it: None for no such process."""
    worker = re.search(r"manage\.py db_worker --queue-name (\S+)", command)
    if worker and tasks_backend == "immediate":
        return None  # tasks run in the request
    if worker and tasks_backend == "rq":
        return f"python manage.py rqworker {' '.join(worker.group(1).split(','))}"
    return command


def start_shell(command: str) -> subprocess.Popen:
    """A Procfile command in its own process group, `python` being this virtualenv's."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.Popen(
        command, shell=True, cwd=ROOT, env=os.environ | {"PATH": path}, start_new_session=True
    )


def run_server(*, port: int, tasks_backend: str) -> int:
    """runserver and the Procfile's other processes; stopping the server (or Ctrl-C) stops them all."""
    commands = {
        name: dev_command(command, tasks_backend)
        for name, command in procfile_processes().items()
        if name != "web"  # runserver stands in for gunicorn
    }
    commands = {name: command for name, command in commands.items() if command}
    server = start("runserver", f"{HOST}:{port}")
    processes = {name: start_shell(command) for name, command in commands.items()}
    for name, process in processes.items():
        say(f"{name}: {commands[name]} (pid {process.pid})")
    try:
        while server.poll() is None:
            for name, process in processes.items():
                if process.poll() is not None:
                    say(f"{name} stopped (exit {process.returncode}); starting it again.")
                    processes[name] = start_shell(commands[name])
            time.sleep(0.5)
        return server.returncode
    except KeyboardInterrupt:
        say("\nStopping…")
        return 0
    finally:
        for process in processes.values():
            stop_process_group(process)
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
