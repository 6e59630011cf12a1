"""Addresses of a dependency that is down or stalled, for tests of how the shop degrades.

`closed_port()` is a loopback port nothing listens on (connections are refused);
`silent_port()` accepts connections and never answers (a stalled server).
"""

import contextlib
import socket
import threading
from collections.abc import Iterator


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.05)  # the accepting thread looks for the end of the test this often
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(timeout=5)
        server.close()
        for connection in accepted:
            connection.close()
