"""Fixtures for the report and case tests: rate-limit windows held still, cheap PINs. Their helpers are in
tests/support/reports.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from server.accounts import auth


@pytest.fixture
def frozen_limits(pinned_clock: time_machine.Coordinates) -> datetime:
    """Rate-limit windows are fixed clock windows; a test that counts attempts must not straddle a boundary."""
    moment = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    pinned_clock.move_to(moment)
    return moment


@pytest.fixture
def quick_pins(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that make many reports and never use their PINs: skip hashing a fresh PIN with argon2 each
    time (the PIN hash is tested on its own)."""
    stored = auth.hash_password("000000")
    monkeypatch.setattr(auth, "hash_password", lambda _pin: stored)
