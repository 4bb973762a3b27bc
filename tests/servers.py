"""Real app processes for tests that need more than the in-process test client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pause(seconds: float) -> None:
    """A polling interval. Not time.sleep: under libfaketime (make test-later-clock) Python's sleep, which waits
    for an absolute moment on the monotonic clock, fails with EINVAL; a timed wait on an event does not."""
    threading.Event().wait(seconds)


def wait_for_exit(process: subprocess.Popen, timeout: float) -> int | None:
    """The process's exit code once it has ended, or None after `timeout` seconds. (Popen.wait(timeout=...) polls
    with time.sleep, see pause.)"""
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() >= deadline:
            return None
        pause(0.02)
    return process.returncode


def run_to_end(args: list[str], *, env: dict[str, str], deadline: float = 60.0) -> subprocess.CompletedProcess:
    """`subprocess.run(args, capture_output=True, text=True)`, killed after `deadline` seconds by a timer thread:
    subprocess's own timeout polls with time.sleep (see pause), which fails under libfaketime."""
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    killer = threading.Timer(deadline, process.kill)
    killer.start()
    try:
        out, err = process.communicate()
    finally:
        killer.cancel()
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def wait_until_healthy(base_url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"app process exited with {process.returncode}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        pause(0.05)  # polling interval while waiting for the port to open, not a fixed wait
    raise RuntimeError(f"app at {base_url} did not become healthy in {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 10.0) -> None:
    """Ask a child process to end (SIGTERM), and kill it if it has not within `timeout` seconds."""
    process.terminate()
    if wait_for_exit(process, timeout) is None:
        process.kill()
        process.wait()


@contextmanager
def app_process(database_url: str, data_dir: Path, *, port: int | None = None, **env: str) -> Iterator[str]:
    """One uvicorn process serving create_app() on `port` (a free one by default); yields its base URL. Serving
    the same database on the same port again is, to a browser, the same site (service workers included)."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", **env},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base_url, process)
        yield base_url
    finally:
        stop(process)
