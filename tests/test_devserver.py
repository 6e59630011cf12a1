"""`make run` (tools/devserver.py) on another port (PORT from the environment or `.env`),
with the Procfile's workers and scheduler, all stopped together."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tools.devserver import procfile_processes
from tools.emulator import free_port

BASE_DIR = Path(__file__).resolve().parent.parent


def test_make_run_serves_and_prints_the_port_from_the_env_file(tmp_path):
    port = free_port()
    env_file = tmp_path / ".env"
    env_file.write_text(f"DEBUG=True\nPORT={port}\nDATABASE_URL=sqlite:///{tmp_path / 'db.sqlite3'}\n")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "ENV_FILE": str(env_file),
        "PYTHONUNBUFFERED": "1",
    }
    output = tmp_path / "devserver.log"
    with output.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tools.devserver"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, output.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.5)
        printed = output.read_text()
        assert f"Shop:  http://127.0.0.1:{port}/" in printed
        assert f"Admin: http://127.0.0.1:{port}/admin/" in printed
        assert "manage.py changepassword admin" in printed
        # Beside the server, the Procfile's other processes: a worker per queue, the scheduler.
        pids = {
            name: int(pid) for name, pid in re.findall(r"^(\w+): .* \(pid (\d+)\)$", printed, re.MULTILINE)
        }
        assert set(pids) == set(procfile_processes()) - {"web"}
        assert re.search(r"^worker_webhooks: .*manage.py db_worker --queue-name webhooks ", printed, re.M)
        assert all(_alive(pid) for pid in pids.values())
        wait_until(lambda: "sync_payments_done" in output.read_text(), output)
        wait_until(lambda: "Expired holds: 0." in output.read_text(), output)  # the every-minute job
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, output.read_text()
    assert not any(map(_alive, pids.values())), "Ctrl-C/SIGTERM stops the workers and the scheduler too"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def wait_until(condition, output: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, output.read_text()
        time.sleep(0.5)
