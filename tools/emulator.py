"""Start and stop the local Stripe emulator (tools/localstripe_server.py).

Used by `make run` (offline mode) and by the test suite's fixtures.
"""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# localstripe accepts any key with these prefixes; they are not real keys.
EMULATOR_SECRET_KEY = "sk_test_localstripe_offline"
EMULATOR_PUBLISHABLE_KEY = "pk_test_localstripe_offline"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Emulator:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def register_webhook(self, *, url: str, secret: str, name: str = "stripe-press") -> None:
        """Have the emulator POST signed events to `url` (localstripe's /_config API)."""
        body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
        request = urllib.request.Request(f"{self.url}/_config/webhooks/{name}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def emulator_start(*, port: int | None = None, log_path: Path | None = None, timeout: float = 20) -> Emulator:
    """Start the emulator on a free loopback port and wait until it answers."""
    port = port or free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (lives with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.localstripe_server", "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    emulator = Emulator(process=process, port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Stripe emulator exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{emulator.url}/js.stripe.com/v3/", timeout=1) as response:
                if response.status == 200:
                    return emulator
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    emulator.stop()
    raise RuntimeError(f"the Stripe emulator did not answer on port {port} within {timeout}s")
