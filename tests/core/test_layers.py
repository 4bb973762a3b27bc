"""The whole order of the domains, read from the code: every module's imports (those inside functions too) point
down, no module imports inside a function (ruff PLC0415 enforces it with a written reason for each exception), and
the import diagram in docs/architecture.md is the graph the code has, so a new edge fails here until the doc says
so."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import server

SERVER = Path(server.__file__).parent
DOC = SERVER.parent / "docs" / "architecture.md"

# A domain imports only domains of a lower rank; the core (rank 0) imports none. Backups imports only the core, and
# health reads the backups' record, so backups sits below health. Data protection reads every domain's tables (a
# person's own data, the retention schedule), so it sits on top.
RANKS = {
    "accounts": 1,
    "notifications": 2,
    "reports": 3,
    "appointments": 4,
    "aftercare": 5,
    "waitlist": 6,
    "backups": 6,
    "statistics": 7,
    "admin": 7,
    "pwa": 7,
    "health": 7,
    "dataprotection": 8,
}
# The modules that put the domains together may import every one of them. The migrations package gathers every
# domain's tables for Alembic, when asked.
ASSEMBLERS = {"app", "cli", "worker", "migrations"}


def _layer(module: str) -> str:
    """`server.reports.cases` -> "reports"; a core module (`server.db`, `server.privacy.phone`) -> "core"."""
    parts = module.split(".")
    if len(parts) < 2:
        return "core"
    name = parts[1]
    if name in RANKS or name in ASSEMBLERS:
        return name
    return "core"


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        if node.module == "server":  # `from server import clock, worker`
            return [f"server.{alias.name}" for alias in node.names]
        return [node.module]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return []


def _modules() -> list[Path]:
    return sorted(p for p in SERVER.rglob("*.py") if "versions" not in p.relative_to(SERVER).parts)


def _graph() -> dict[str, set[str]]:
    """Which layer imports which other layer, over every module of server/."""
    graph: dict[str, set[str]] = {}
    for path in _modules():
        module = ".".join(("server", *path.relative_to(SERVER).with_suffix("").parts)).removesuffix(".__init__")
        source = _layer(module)
        for node in ast.walk(ast.parse(path.read_text())):
            for name in _imported(node):
                if name == "server" or name.startswith("server."):
                    target = _layer(name)
                    if target != source:
                        graph.setdefault(source, set()).add(target)
    return graph


def test_every_import_points_down():
    back_edges = []
    for source, targets in _graph().items():
        if source in ASSEMBLERS:
            continue
        for target in targets:
            if target in ASSEMBLERS or RANKS.get(target, 0) >= RANKS.get(source, 0):
                back_edges.append(f"{source} -> {target}")
    assert sorted(back_edges) == []


def test_every_domain_has_its_rank():
    folders = {p.parent.name for p in SERVER.glob("*/__init__.py")} - {"migrations", "privacy", "translations"}
    assert folders == set(RANKS)


def test_no_module_imports_inside_a_function():
    """ruff's PLC0415 says the same with the `noqa` reasons; this holds it for the domains without exception."""
    found = []
    for path in _modules():
        if _layer(".".join(("server", *path.relative_to(SERVER).parts))) in ASSEMBLERS:
            continue
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found += [f"{path.relative_to(SERVER)}:{node.lineno}" for node in ast.walk(function)
                          if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert found == []


def _diagram() -> str:
    lines = []
    for source in sorted(_graph(), key=lambda name: (name in ASSEMBLERS, RANKS.get(name, 0), name)):
        targets = sorted(_graph()[source], key=lambda name: (RANKS.get(name, 0), name))
        lines.append(f"{source} -> {', '.join(targets)}")
    return "\n".join(lines)


def test_the_diagram_in_the_architecture_page_is_the_graph_of_the_code():
    block = re.search(r"```text imports\n(.*?)\n```", DOC.read_text(), re.DOTALL)
    assert block is not None, "docs/architecture.md has no ```text imports block"
    assert block.group(1) == _diagram()


@pytest.mark.parametrize("entry", ["server.app", "server.worker", "server.cli"])
def test_each_process_registers_what_aftercare_does_when_a_case_closes(entry):
    """Reports no longer imports aftercare, so a process that never imported it would close cases without their
    check-ins: each way in imports it (checked in a fresh interpreter, where nothing else imported it first)."""
    code = (f"import {entry}\nfrom server.reports import case_hooks\n"
            "print(sorted(case_hooks._on_close), sorted(case_hooks._on_reopen), sorted(case_hooks._close_parts),"
            " sorted(case_hooks._case_parts), sorted(case_hooks._holder_parts), sorted(case_hooks._case_actions))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "['aftercare'] ['aftercare'] ['aftercare'] ['aftercare'] ['aftercare'] ['check_in_plan']"
