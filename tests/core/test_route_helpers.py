"""What every domain's routes share lives once, in server/web.py: the posted-form body (`Form`, `TextForm`), the
confirmation after a redirect (`notice()`, `done()`) and the caller's address (`ip()`, over `client_ip`, where
the trusted proxies are decided). No route module keeps its own copy, so a fix to one (a cookie flag, who is
believed about the address) cannot miss a domain."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import server

SERVER = Path(server.__file__).parent
ROUTE_MODULES = sorted([SERVER / "routes.py", *SERVER.glob("*/routes.py")])

# Helpers that were once copied into several domains' routes and now live in server/web.py.
SHARED_HELPERS = {"_ip", "_client_ip", "_notice", "_done", "_int", "_set_cookie", "_cookie"}
# The aliases of a form body; a route module imports them from server/web.py.
FORM_ALIASES = {"Form", "TextForm"}


def _name(path: Path) -> str:
    return str(path.relative_to(SERVER.parent))


def _own_copies(source: str) -> list[str]:
    """What a route module defines or reads itself that server/web.py already gives."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in SHARED_HELPERS:
            found.append(f"def {node.name}")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, ast.AnnAssign) else []
        found += [f"{target.id} =" for target in targets
                  if isinstance(target, ast.Name) and target.id in FORM_ALIASES]
        # A url-encoded body declared in place is a Form alias under another name.
        if isinstance(node, ast.Attribute) and node.attr == "URL_ENCODED":
            found.append("RequestEncodingType.URL_ENCODED")
        # The notice code (?pesan=) is read by web.notice() alone, which only ever shows the page's own sentences.
        if (isinstance(node, ast.keyword) and node.arg == "name" and isinstance(node.value, ast.Constant)
                and node.value.value == "pesan"):
            found.append('a "pesan" parameter')
    return found


def test_every_domain_with_pages_is_checked():
    names = {_name(path) for path in ROUTE_MODULES}
    assert {"server/routes.py", "server/accounts/routes.py", "server/appointments/routes.py",
            "server/waitlist/routes.py", "server/reports/routes.py"} <= names


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=_name)
def test_no_route_module_keeps_its_own_copy_of_a_shared_helper(path: Path):
    assert _own_copies(path.read_text()) == []


@pytest.mark.parametrize(("source", "found"), [
    ("def _ip(request, state):\n    return client_ip(request.scope, state.settings)\n", ["def _ip"]),
    ("class C:\n    def _notice(self, request):\n        pass\n", ["def _notice"]),
    ("def _done(path, code):\n    pass\n", ["def _done"]),
    ("Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]\n",
     ["Form =", "RequestEncodingType.URL_ENCODED"]),
    ("TextForm: TypeAlias = dict\n", ["TextForm ="]),
    ("def post(data: Annotated[dict, Body(media_type=RequestEncodingType.URL_ENCODED)]):\n    pass\n",
     ["RequestEncodingType.URL_ENCODED"]),
    ('def mine(code: Annotated[str, QueryParameter(name="pesan")] = ""):\n    pass\n', ['a "pesan" parameter']),
    ("from server.web import Form, done, ip, notice\n\ndef ok(request):\n    return done('/x', 'y')\n", []),
])
def test_the_check_finds_each_kind_of_copy(source: str, found: list[str]):
    """The check itself, on small sources: each kind of copy is named, and using the shared helpers is not."""
    assert _own_copies(source) == found
