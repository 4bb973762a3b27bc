"""The notifications domain sends what other domains wrote and knows none of them: a job about an appointment or a
check-in is checked by the domain that wrote it, through the check that domain registered."""

from __future__ import annotations

import ast
from pathlib import Path

import server.notifications
from server import worker  # noqa: F401 - what `bintang worker` imports, so what its dispatcher knows
from server.notifications import outbox

# The domains that write jobs. (Its pages still read the code holder's session from reports: issue 16's
# "who is asking" component is to end that.)
DOMAINS = ("aftercare", "appointments", "statistics")


def test_no_module_of_notifications_imports_a_domain_that_writes_jobs():
    folder = Path(server.notifications.__file__).parent
    imported: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    assert sorted(name for name in imported if name.split(".")[:2] in [["server", d] for d in DOMAINS]) == []


def test_the_worker_knows_how_to_tell_whether_appointment_and_check_in_jobs_still_apply():
    assert {"appointment", "check_in"} <= set(outbox._checks)
