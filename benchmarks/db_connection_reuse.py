"""Throughput of a DB-backed page with and without persistent DB connections.

Starts gunicorn (2 sync workers, production settings) against a dedicated
PostgreSQL database, once with CONN_MAX_AGE=0 (a new connection per request)
and once with CONN_MAX_AGE=600 (connections reused), sends the same bounded
load to `/` (the book list: one query) and reports requests/second and
latency percentiles for each, and their ratio. The two configurations run
alternately for --rounds rounds and the median round of each is reported, so
a burst of other work on the machine does not decide the result alone.

    .venv/bin/python benchmarks/db_connection_reuse.py
    .venv/bin/python benchmarks/db_connection_reuse.py --requests 5000 --clients 8

Loopback only; every run is bounded by --requests and --max-seconds, and
gunicorn is always stopped. The database is dropped afterwards unless
--keep-database is given.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "benchmark-only-" + "Qm7vX2pL9kR4tW8zN3bH6cJ1" * 2


@dataclass
class Result:
    conn_max_age: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def summary(self) -> dict:
        return {
            "conn_max_age": self.conn_max_age,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "requests_per_second": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 2),
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def check_loopback(server_url: str) -> None:
    host = urlsplit(server_url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"refusing a non-loopback database host: {host}")


def create_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_env(db_url: str, static_root: str, conn_max_age: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "benchmarks.bench_settings",
        "BENCH_STATIC_ROOT": static_root,
        "DEBUG": "False",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": db_url,
        "CONN_MAX_AGE": str(conn_max_age),
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, check=True, timeout=300)


def wait_until_up(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def load(port: int, path: str, total: int, clients: int, max_seconds: float) -> tuple[int, int, float, list]:
    """Send `total` GETs from `clients` threads (keep-alive where the server allows it)."""
    remaining = iter(range(total))
    lock = threading.Lock()
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.monotonic() + max_seconds

    def client() -> None:
        nonlocal errors, sent
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < deadline:
            with lock:
                if next(remaining, None) is None:
                    break
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                conn.close()
            mine.append((time.perf_counter() - started) * 1000)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += failed
            sent += len(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sent, errors, time.perf_counter() - started, latencies


def run_one(args, db_url: str, static_root: str, conn_max_age: int) -> Result:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "-w",
        str(args.workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, cwd=BASE_DIR, env=server_env(db_url, static_root, conn_max_age))
    try:
        wait_until_up(port, process)
        load(port, args.path, args.warmup, args.clients, args.max_seconds)
        sent, errors, seconds, latencies = load(
            port, args.path, args.requests, args.clients, args.max_seconds
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if sent == 0:
        raise RuntimeError("no request completed")
    return Result(conn_max_age, sent, errors, seconds, latencies)


def median_round(results: list[Result]) -> Result:
    return sorted(results, key=lambda result: result.rps)[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432", help="PostgreSQL server URL"
    )
    parser.add_argument("--database", default="stripe_press_bench", help="database created for the run")
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per configuration")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests first")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--path", default="/", help="page to request")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each configuration")
    parser.add_argument("--max-seconds", type=float, default=120, help="time limit per load phase")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database afterwards")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    check_loopback(args.server)

    db_url = database_url(args.server, args.database)
    rounds: dict[int, list[Result]] = {0: [], 600: []}
    load_before = " ".join(f"{value:.2f}" for value in os.getloadavg())
    create_database(args.server, args.database)
    try:
        with tempfile.TemporaryDirectory(prefix="stripe-press-bench-static-") as static_root:
            env = server_env(db_url, static_root, 0)
            manage(env, "migrate", "--noinput", "-v", "0")
            manage(env, "loaddata", "books", "-v", "0")
            manage(env, "collectstatic", "--noinput", "-v", "0")
            for _ in range(args.rounds):
                for conn_max_age in (0, 600):
                    rounds[conn_max_age].append(run_one(args, db_url, static_root, conn_max_age))
    finally:
        if not args.keep_database:
            drop_database(args.server, args.database)

    results = [median_round(rounds[0]), median_round(rounds[600])]
    summaries = [result.summary() for result in results]
    ratio = results[1].rps / results[0].rps
    all_rps = {age: [round(r.rps, 1) for r in runs] for age, runs in rounds.items()}
    if args.json:
        report = {"results": summaries, "rounds_rps": all_rps, "throughput_ratio": round(ratio, 2)}
        print(json.dumps(report, indent=2))
        return
    print(
        f"\nGET {args.path}: {args.requests} requests x {args.rounds} rounds, {args.clients} clients, "
        f"gunicorn -w {args.workers} (sync), PostgreSQL {args.database}, "
        f"load average before: {load_before}"
    )
    for age, values in all_rps.items():
        print(f"  CONN_MAX_AGE={age} req/s per round: {values}")
    print("median round of each:")
    print(f"{'CONN_MAX_AGE':>12} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for s in summaries:
        print(
            f"{s['conn_max_age']:>12} {s['requests_per_second']:>9} {s['p50_ms']:>8} "
            f"{s['p95_ms']:>8} {s['p99_ms']:>8} {s['errors']:>7}"
        )
    print(f"throughput ratio (reused / new connection per request): {ratio:.2f}x")
    if any(result.errors for result in results):
        sys.exit("some requests failed: the figures are not comparable")


if __name__ == "__main__":
    main()
