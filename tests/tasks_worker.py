"""Helpers for the tests where the task queue itself is the point.

    settings.TASKS = DATABASE_TASKS           # enqueue into the database, as production does
    with smtp_inbox(delay=0.0) as inbox:      # a real SMTP server on a free loopback port
        worker = db_worker(inbox, "--batch")  # a real `manage.py db_worker` on the test database
        # (every queue; queues="webhooks" for that queue alone, as the Procfile's workers)
        worker.wait(timeout=60)
        inbox.recipients()

Workers are subprocesses with their own connections, so these tests use
`transactional_db` (data committed) and PostgreSQL.
"""

import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from email import message_from_bytes
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": settings.TASK_QUEUES}}


class Inbox:
    """An aiosmtpd handler keeping every message it accepts, after `delay` seconds each."""

    def __init__(self, delay: float):
        self.delay = delay
        self.port = 0
        self.messages: list = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        with self._lock:
            return [str(m["Subject"]) for m in self.messages]

    def recipients(self) -> list[str]:
        with self._lock:
            return [str(m["To"]) for m in self.messages]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_inbox(*, delay: float = 0.0):
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP line at INFO
    inbox = Inbox(delay)
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port, ready_timeout=10)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def db_worker(inbox: Inbox, *args: str, queues: str = "*") -> subprocess.Popen:
    """Start `manage.py db_worker --queue-name <queues>` on this test's database, mailing through `inbox`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings_worker",
        "WORKER_DATABASE_NAME": connection.settings_dict["NAME"],
        "WORKER_SMTP_PORT": str(inbox.port),
    }
    command = [sys.executable, "manage.py", "db_worker", "--queue-name", queues, "--interval", "0.1"]
    command += ["--no-startup-delay", *args]
    # Its log goes to a file: a pipe nobody reads would fill up and block the worker.
    log = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115  (closed with the worker, in stop())
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker.log = log
    return worker


def worker_log(worker: subprocess.Popen) -> str:
    worker.log.seek(0)
    return worker.log.read()[-3000:]


def finish(worker: subprocess.Popen, *, timeout: float = 60) -> None:
    """Wait for a `--batch` worker to drain the queue and exit cleanly."""
    try:
        code = worker.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        log = worker_log(worker)
        stop(worker)
        raise AssertionError(f"worker still running after {timeout} s:\n{log}") from None
    log = worker_log(worker)
    worker.log.close()
    assert code == 0, log


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.kill()
    worker.wait(timeout=10)
    worker.log.close()
