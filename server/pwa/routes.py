"""The installable app: manifest, service worker, offline page."""

from __future__ import annotations

from litestar import Controller


class PWAController(Controller):
    pass
