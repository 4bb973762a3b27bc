"""Push services on 127.0.0.1 for the stall tests: real HTTP servers in threads of the test process, one that
answers at once, one that dribbles its answer a byte at a time, and one that takes the whole request and never
answers (a black hole), as a push service (or something pretending to be one) may. Each is started and stopped by
the test that uses it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# A long but well-formed answer: dribbled a byte at a time it takes minutes.
ANSWER = (b"HTTP/1.1 201 Created\r\nX-Padding: " + b"p" * 200 + b"\r\nContent-Length: 0\r\n\r\n")


@dataclass
class Arrival:
    at: float  # time.monotonic() when the whole request had arrived
    head: bytes
    body: bytes


@dataclass
class LocalPushService:
    """Accepts POSTs on 127.0.0.1; answers each with ANSWER, all at once or one byte every `dribble` seconds, or,
    with `silent`, never (the connection stays open until the sender gives up or the service stops)."""

    dribble: float | None = None
    silent: bool = False
    arrivals: list[Arrival] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._arrived = threading.Condition()
        self._connections: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def endpoint(self, name: str) -> str:
        return f"http://{self.host}/send/{name}"

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _address = self._listener.accept()
            except OSError:
                return
            self._connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        try:
            while not self._stopping.is_set():
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(body) < length:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    body += chunk
                with self._arrived:
                    self.arrivals.append(Arrival(time.monotonic(), head, body))
                    self._arrived.notify_all()
                if self.silent:
                    self._stopping.wait()
                    return
                if self.dribble is None:
                    connection.sendall(ANSWER)
                    continue
                for byte in ANSWER:
                    # The pace of the dribble, not a wait for a result: stopping the service ends it at once.
                    if self._stopping.wait(self.dribble):
                        return
                    connection.sendall(bytes([byte]))
        except OSError:
            return
        finally:
            connection.close()

    def wait_for(self, condition: Callable[[list[Arrival]], bool], timeout: float) -> bool:
        """Whether `condition(arrivals)` came true within `timeout` seconds."""
        with self._arrived:
            return self._arrived.wait_for(lambda: condition(self.arrivals), timeout)

    def stop(self) -> None:
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() in progress (close() alone does not)
        except OSError:
            pass
        self._listener.close()
        for connection in list(self._connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(5)


@contextmanager
def local_push_service(dribble: float | None = None, *, silent: bool = False) -> Iterator[LocalPushService]:
    service = LocalPushService(dribble, silent=silent)
    try:
        yield service
    finally:
        service.stop()


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; returns whether it held."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        pause.wait(interval)
