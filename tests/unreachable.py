"""Addresses of a dependency that is down or stalled, for tests of how the shop degrades.

`closed_port()` is a loopback port nothing listens on (connections are refused);
`silent_port()` accepts connections and never answers (a stalled server);
`StallingProxy(port)` forwards to a live server until `stall()`, then goes
silent under the connections already open (the kernel still acknowledges
what is sent: no reset, no FIN). The proxy stops by itself after `lifetime`
seconds, and every thread it starts ends when it stops.
"""

import contextlib
import select
import socket
import threading
import time
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


POLL = 0.05  # how often the proxy's threads look for a stall or the end


class StallingProxy:
    """A TCP proxy on 127.0.0.1 to `target_port`: `with StallingProxy(port) as proxy: ... proxy.stall()`."""

    def __init__(self, target_port: int, *, lifetime: float = 60.0):
        self.target = ("127.0.0.1", target_port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.stalled = threading.Event()
        self.stopped = threading.Event()
        self.deadline = time.monotonic() + lifetime
        self.threads: list[threading.Thread] = []
        self.sockets: list[socket.socket] = [self.server]
        self._spawn(self._accept)

    def stall(self) -> None:
        self.stalled.set()

    def stop(self) -> None:
        self.stopped.set()
        for thread in list(self.threads):
            thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()

    def __enter__(self) -> "StallingProxy":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _stopping(self) -> bool:
        return self.stopped.is_set() or time.monotonic() > self.deadline

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        self.server.settimeout(POLL)
        while not self._stopping():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            if self.stalled.is_set():  # a new connection is accepted, and never answered
                self.sockets.append(client)
                continue
            upstream = socket.create_connection(self.target, timeout=5)
            self.sockets += [client, upstream]
            self._spawn(self._pump, client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        while not self._stopping():
            if self.stalled.is_set():
                time.sleep(POLL)
                continue
            readable, _, _ = select.select([client, upstream], [], [], POLL)
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    client.close(), upstream.close()
                    return
                peer[sock].sendall(data)
