"""Supervisor pages."""

from __future__ import annotations

from litestar import Controller


class AdminController(Controller):
    path = "/admin"
