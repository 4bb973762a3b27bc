"""Helpers for the health tests: waiting on a condition without time.sleep (tests/servers.py `pause`)."""

from __future__ import annotations

from tests.servers import pause


def wait_until(condition, timeout: float = 30.0) -> bool:
    waited = 0.0
    while waited < timeout:
        if condition():
            return True
        pause(0.02)
        waited += 0.02
    return False
