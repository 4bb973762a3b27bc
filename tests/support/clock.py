"""The moment the tests without a browser run at (tests/conftest.py `pinned_clock`)."""

from datetime import UTC, datetime

# Every test without a browser runs at this moment unless it moves the clock: Tuesday 1 December 2026, 09.17 WITA
# (off the half hours that slots start on).
PINNED_NOW = datetime(2026, 12, 1, 1, 17, tzinfo=UTC)
