"""Cookies are read and set in one place each: the two session cookies by accounts/visitor.py (which puts the
Visitor on the request), every other read and every cookie's flags by server/web.py. So the README's "no domain
reads the cookies" stays true: a new `request.cookies` or `set_cookie(` anywhere else fails here."""

from __future__ import annotations

import re
from pathlib import Path

import server

SERVER = Path(server.__file__).parent
READS_ALLOWED = {"web.py", "accounts/visitor.py"}
SETS_ALLOWED = {"web.py"}


def _lines_matching(pattern: str) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in sorted(SERVER.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(pattern, line):
                found.setdefault(path.relative_to(SERVER).as_posix(), []).append(number)
    return found


def test_only_the_visitor_and_web_read_cookies():
    readers = _lines_matching(r"\.cookies\b")
    assert set(readers) - READS_ALLOWED == set(), readers


def test_only_web_sets_cookies_with_their_flags():
    setters = _lines_matching(r"\.set_cookie\(")
    assert set(setters) - SETS_ALLOWED == set(), setters


def test_the_checks_would_see_a_read_and_a_set():
    """The patterns match what they are meant to refuse (so an empty result above means something)."""
    assert "web.py" in _lines_matching(r"\.cookies\b")
    assert "web.py" in _lines_matching(r"\.set_cookie\(")
