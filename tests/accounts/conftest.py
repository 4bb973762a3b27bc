"""Fixtures for the account tests: the two-factor tests' clock, pinned where tests/support/two_factor.py
computes its codes."""

from __future__ import annotations

import pytest
import time_machine

from tests.support.two_factor import START


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller
