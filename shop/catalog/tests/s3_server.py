"""A local S3-compatible server for the tests: moto's server mode (PyPI `moto[server]`), in a
process of its own on a free loopback port, spoken to over real HTTP by boto3 and django-storages."""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tools.emulator import free_port

# moto accepts any key pair; these name nothing real.
ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key-for-the-local-s3-server"
REGION = "us-east-1"


@dataclass
class S3Server:
    process: subprocess.Popen
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def s3_server_start(*, log_path: Path | None = None, timeout: float = 30) -> S3Server:
    """Start moto's server and wait until it answers."""
    port = free_port()
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 (lives with the process)
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = S3Server(process=process, port=port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto's server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{server.url}/moto-api/", timeout=1):
                return server
        except urllib.error.HTTPError:
            return server  # it answers
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"moto's server did not answer on port {port} within {timeout}s")
