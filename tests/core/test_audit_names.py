"""Audit action names have one style: `what.what_happened`, lower case, the second part in the past tense (or
saying what was missing), so the log reads as a list of things that happened and one idea has one name."""

from __future__ import annotations

import re
from pathlib import Path

import server
from server.admin.service import ACTION_LABELS, FORMER_NAMES, action_label

# Calls that write an entry: audit.record(session, "x", ...), a domain's _audit(session, "x", ...) (a case's:
# reports/case_record.py's audit_change) and the admin service's _record(session, actor, "x", ...) (which puts
# "admin." in front).
CALL = re.compile(r'(audit\.record|_audit|audit_change|_record)\(\s*[a-z_]+,\s*(?:[a-z_]+,\s*)?"([a-z_.]+)"')
IRREGULAR = {"sent", "resent", "reset", "missing", "withdrawn"}


def recorded_actions() -> set[str]:
    found = set()
    for path in Path(server.__file__).parent.rglob("*.py"):
        for call, name in CALL.findall(path.read_text()):
            found.add(f"admin.{name}" if call == "_record" else name)
    return found


def test_the_app_records_actions_by_a_good_number_of_names():
    assert len(recorded_actions()) > 40


def test_every_action_is_an_object_and_what_happened_to_it():
    wrong = [name for name in sorted(recorded_actions())
             if not re.fullmatch(r"[a-z_]+\.[a-z_]+", name)
             or not any(word.endswith("ed") or word in IRREGULAR for word in name.split(".")[1].split("_"))]
    assert wrong == []


def test_entries_written_under_a_former_name_are_shown_under_the_new_one():
    for former, current in FORMER_NAMES.items():
        assert current in recorded_actions()
        assert action_label(former) == action_label(current)
    assert str(ACTION_LABELS["signin.succeeded"]) == action_label("signin")
