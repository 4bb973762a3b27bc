"""Talking to the app as a browser does, through Litestar's test client: the CSRF token its forms carry, posting
a form with it, signing in through the form."""

from __future__ import annotations

import re
import weakref

from litestar.testing import TestClient

from server.accounts import demo
from server.app import CSRF_COOKIE

_csrf_of: weakref.WeakKeyDictionary[TestClient, tuple[str | None, str]] = weakref.WeakKeyDictionary()


def csrf_token(client: TestClient, path: str = "/masuk") -> str:
    """The token this client's forms carry. The first time (and whenever the CSRF cookie changed) a page is
    loaded, so that the cookie is set, and the token is read from its form; after that it is remembered."""
    cookie = client.cookies.get(CSRF_COOKIE)
    remembered = _csrf_of.get(client)
    if cookie is not None and remembered is not None and remembered[0] == cookie:
        return remembered[1]
    response = client.get(path)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', response.text)
    assert match, f"no CSRF token on {path}"
    _csrf_of[client] = (client.cookies.get(CSRF_COOKIE), match.group(1))
    return match.group(1)


def post_form(client: TestClient, path: str, data: dict[str, object], *, token_from: str = "/masuk", **kwargs):
    return client.post(path, data={"_csrf_token": csrf_token(client, token_from), **data}, **kwargs)


def sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> TestClient:
    response = post_form(client, "/masuk", {"username": username, "password": password}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return client
