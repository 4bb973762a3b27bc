"""Test helpers live in tests/support/; a conftest.py holds fixtures only. A fixture imported into a test module
shadows the one pytest hands over by name (the F811 noise ruff used to be told to ignore), and a helper kept in a
conftest drags that conftest's fixtures along. Ruff refuses an import of a conftest (TID251, pyproject.toml); this
test keeps ruff's list in step with the conftest files there are, and refuses a relative `from .conftest import`,
which a banned-api entry cannot name. Nor does a test module take helpers from another test module."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def conftest_modules() -> set[str]:
    return {".".join(path.relative_to(ROOT).with_suffix("").parts) for path in (ROOT / "tests").rglob("conftest.py")}


def test_ruff_refuses_an_import_of_every_conftest():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    banned = set(config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"])
    assert "TID251" in config["tool"]["ruff"]["lint"]["select"]
    assert conftest_modules() - banned == set(), "add these to [tool.ruff.lint.flake8-tidy-imports.banned-api]"


def test_no_module_imports_a_conftest():
    found = []
    for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.split(".")[-1] == "conftest" for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == [], "import the helper from tests/support/ instead"


# The browser suite's page helpers still live in its test modules (tests/browser/test_reports.py and others);
# they move to tests/support/ next, and this allowance goes.
NOT_MOVED_YET = ("tests/browser/", "tests/deploy/test_production.py")


def test_no_test_module_takes_helpers_from_another():
    found = []
    for path in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]:
        relative = str(path.relative_to(ROOT))
        if relative.startswith(NOT_MOVED_YET):
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1].startswith("test_"):
                found.append(f"{relative}:{node.lineno}")
    assert found == [], "move the helper to tests/support/"
