"""Fixtures for the supervisor pages; their helpers are in tests/support/admin.py."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient


@pytest.fixture
def supervisor(as_user) -> TestClient:
    return as_user("supervisor")
