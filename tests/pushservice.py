"""A real local push service for tests and benchmarks: the npm package `web-push-testing` (a devDependency,
installed by `npm ci`). It checks the VAPID signature, decrypts each message (RFC 8291) and keeps it, so a test
reads back exactly what a phone would have shown.

Its own start script listens on every interface; here it runs through a few lines of Node that bind it to
127.0.0.1 only, and its endpoints name 127.0.0.1 too (no IPv6-then-IPv4 fallback on `localhost`). It answers
201, 400 or 410 and nothing else: other statuses are tested with a fake transport."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.servers import ROOT, free_port, pause, stop

PACKAGE = ROOT / "node_modules" / "web-push-testing"

# The package's own src/bin/server.js, except for the address it listens on and the one its endpoints name.
LAUNCHER = """
const [pkg, port] = [process.argv[1], Number(process.argv[2])];
const TestingServer = require(pkg + '/src/server.js');
const {PushApiModel} = require(pkg + '/src/PushApiModel.js');
const model = new PushApiModel();
const server = new TestingServer(model, port);
const listen = server._app.listen.bind(server._app);
server._app.listen = (p, ready) => listen(p, '127.0.0.1', ready);
server.startServer();
model.notifyUrl = 'http://127.0.0.1:' + port + '/notify/';
"""


@dataclass(frozen=True)
class Client:
    """One browser's subscription at the push service."""

    endpoint: str
    p256dh: str
    auth: str
    client_hash: str

    @property
    def subscription(self) -> dict[str, Any]:
        """What the browser's PushSubscription.toJSON() gives a page."""
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class PushService:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=10.0)

    @property
    def host(self) -> str:
        """host:port, as PUSH_ALLOWED_HOSTS must list it for the app to send here."""
        return self.base_url.removeprefix("http://")

    def subscribe(self, application_server_key: str) -> Client:
        # userVisibleOnly is the string "true": the service refuses a JSON boolean.
        response = self.http.post("/subscribe", json={"userVisibleOnly": "true",
                                                      "applicationServerKey": application_server_key})
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        return Client(data["endpoint"], data["keys"]["p256dh"], data["keys"]["auth"], data["clientHash"])

    def messages(self, client: Client) -> list[str]:
        """The decrypted payloads this client received, oldest first."""
        response = self.http.post("/get-notifications", json={"clientHash": client.client_hash})
        assert response.status_code == 200, response.text
        return response.json()["data"]["messages"]

    def payloads(self, client: Client) -> list[dict[str, Any]]:
        return [json.loads(message) for message in self.messages(client)]

    def expire(self, client: Client) -> None:
        """From now on the service answers 410 Gone to sends to this client, as when a browser unsubscribes."""
        response = self.http.post(f"/expire-subscription/{client.client_hash}")
        assert response.status_code == 200, response.text

    def close(self) -> None:
        self.http.close()


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the push service tests need Node.js: install the Debian packages 'nodejs' and 'npm', "
                           "then run `npm ci` (it installs the devDependency web-push-testing)")
    if not (PACKAGE / "src" / "server.js").exists():
        raise RuntimeError(f"web-push-testing is not installed in {PACKAGE.parent}: run `npm ci` (needs npm)")
    return node


def wait_until_ready(base_url: str, process: subprocess.Popen, log: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"web-push-testing exited with {process.returncode}: {log.read().decode()[-2000:]}")
        try:
            if httpx.post(f"{base_url}/status", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        pause(0.05)  # polling interval while the port opens, not a fixed wait
    raise RuntimeError(f"web-push-testing at {base_url} did not answer /status within {timeout} s")


@contextmanager
def push_service() -> Iterator[PushService]:
    """web-push-testing on a free port of 127.0.0.1 for as long as the block runs."""
    node = _node()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    # Its output goes to a file, not a pipe nobody reads (a full pipe would stall it); shown if it fails to start.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen([node, "-e", LAUNCHER, str(PACKAGE), str(port)], cwd=ROOT,
                                   stdout=log, stderr=subprocess.STDOUT)
        service = PushService(base_url)
        try:
            wait_until_ready(base_url, process, log)
            yield service
        finally:
            service.close()
            stop(process)
