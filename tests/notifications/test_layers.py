"""The notifications domain sends what other domains wrote and knows none of them: a job about an appointment or a
check-in is checked by the domain that wrote it, through the check that domain registered."""

from __future__ import annotations

import ast
from pathlib import Path

import server.notifications
from server import worker  # noqa: F401 - what `bintang worker` imports, so what its dispatcher knows
from server.notifications import outbox

# Every domain but accounts, whose `Visitor` tells every page who is asking.
DOMAINS = ("admin", "aftercare", "appointments", "pwa", "reports", "statistics")


def test_no_module_of_notifications_imports_another_domain_than_accounts():
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


def test_no_domain_imports_another_domains_routes():
    """Who is asking (the signed-in person, the code holder) comes from server/accounts/visitor.py, not from
    cookies and names in another domain's routes."""
    root = Path(server.notifications.__file__).parent.parent
    found = []
    for path in root.glob("*/*.py"):
        domain = path.parent.name
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith(".routes"):
                parts = node.module.split(".")
                if parts[0] == "server" and len(parts) == 3 and parts[1] != domain:
                    found.append(f"{path.relative_to(root)}: {node.module}")
    assert found == []
