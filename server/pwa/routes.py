"""The installable app: manifest, service worker, offline page, and the server side of quick exit."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from server import i18n, service_info
from server.accounts import auth
from server.accounts.visitor import CASE_COOKIE, session_tokens
from server.db import DB
from server.i18n import current_language
from server.i18n import gettext as _
from server.notifications import service as notifications
from server.notifications.push import neutral_text
from server.settings import ROOT
from server.web import drop_cookie, page, static_url

SERVICE_WORKER = ROOT / "service_worker" / "sw.js"
OFFLINE_PATH = "/offline"
# The app shell: everything a page needs to look right, so a page kept for offline use still renders.
PRECACHED_STATIC = (
    "css/app.css",
    "js/quick-exit.js",
    "js/app.js",
    "js/report-form.js",
    "js/receipt.js",
    "js/offline-queue.js",
    "vendor/htmx.min.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/icon-maskable-512.png",
    "icons/apple-touch-icon.png",
)
# What the offline page is made of: when any of it changes, the worker must change so phones fetch it again.
OFFLINE_PAGE_TEMPLATES = ("pwa/offline.html", "base.html", "_emergency.html")
# JSON literals in sw.js, so the file stays valid JavaScript before the server fills them in.
VERSION_PLACEHOLDER = '"__VERSION__"'
PRECACHE_PLACEHOLDER = '["__PRECACHE__"]'
FALLBACK_PLACEHOLDER = '{"__FALLBACK__": true}'

THEME_COLOR = "#1d4f91"
BACKGROUND_COLOR = "#ffffff"
SHORT_NAME_MAX = 12
# Never "storage": this answer may arrive after the page has left for the neutral site (a slow connection, or
# sent again by a page reached by Back), and clearing storage then would erase the tab's "left by quick exit"
# marker, so that Back shows the app again. The page clears everything the app stores itself before it leaves
# (static/js/quick-exit.js); cookies (HttpOnly, out of the page's reach) and the HTTP and back/forward caches
# are what only the browser can clear.
QUICK_EXIT_CLEARS = '"cache", "cookies"'


def installed_name(service_name: str) -> str:
    # The installed name sits on a home screen that someone else may look at (DESIGN.md §4).
    if not service_name.strip() or service_info.reveals(service_name):
        return service_info.ServiceInfo.service_name
    return service_name.strip()


def short_name(name: str) -> str:
    """As many whole words as fit under a home-screen icon."""
    if len(name) <= SHORT_NAME_MAX:
        return name
    words = name.split()
    short = words[0]
    for word in words[1:]:
        if len(short) + 1 + len(word) > SHORT_NAME_MAX:
            break
        short = f"{short} {word}"
    return short[:SHORT_NAME_MAX]


def manifest_for(info: service_info.ServiceInfo) -> dict[str, Any]:
    name = installed_name(info.service_name)
    return {
        "id": "/",
        "name": name,
        "short_name": short_name(name),
        "description": _("Layanan konseling untuk anak dan remaja."),
        "lang": current_language(),
        "dir": "ltr",
        "start_url": "/?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": BACKGROUND_COLOR,
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {
                "src": static_url("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }


def precache_urls() -> list[str]:
    return [*(static_url(path) for path in PRECACHED_STATIC), OFFLINE_PATH]


@cache
def _service_worker_parts() -> tuple[str, bytes]:
    """sw.js and the templates of the offline page; read once, like static_url's hashes."""
    source = SERVICE_WORKER.read_text(encoding="utf-8")
    for placeholder in (VERSION_PLACEHOLDER, PRECACHE_PLACEHOLDER, FALLBACK_PLACEHOLDER):
        if source.count(placeholder) != 1:
            raise RuntimeError(f"{SERVICE_WORKER} must contain {placeholder} exactly once")
    templates = b"".join((ROOT / "templates" / name).read_bytes() for name in OFFLINE_PAGE_TEMPLATES)
    return source, templates


def service_worker_script(info: service_info.ServiceInfo) -> str:
    """sw.js with its version and precache list filled in. The version changes with every precached file, the
    worker itself, and the offline page, whose emergency numbers a supervisor may change at any time."""
    source, offline_templates = _service_worker_parts()
    urls = precache_urls()
    digest = hashlib.sha256()
    for part in (source.encode(), json.dumps(urls).encode(), offline_templates, repr(info).encode()):
        digest.update(part)
    # What a push that cannot be read shows: the service's name and the neutral text, in Indonesian (the worker
    # cannot know the person's language; the cookie that says it is not readable from scripts).
    with i18n.language(i18n.DEFAULT_LANGUAGE):
        fallback = {"title": info.service_name, "body": neutral_text("", info.service_name)}
    return (source.replace(VERSION_PLACEHOLDER, json.dumps(digest.hexdigest()[:16]))
            .replace(PRECACHE_PLACEHOLDER, json.dumps(urls))
            .replace(FALLBACK_PLACEHOLDER, json.dumps(fallback)))


class PWAController(Controller):
    @get("/manifest.webmanifest", name="manifest", sync_to_thread=True)
    def manifest(self, state: State) -> Response[dict[str, Any]]:
        return Response(manifest_for(service_info.current(state.engine)), media_type="application/manifest+json")

    @get("/sw.js", name="service_worker", sync_to_thread=True)
    def service_worker(self, state: State) -> Response[str]:
        return Response(
            service_worker_script(service_info.current(state.engine)),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
        )

    @get(OFFLINE_PATH, name="offline", media_type=MediaType.HTML)
    async def offline(self, request: Request) -> Any:
        return page(request, "pwa/offline.html")

    @post("/keluar-cepat", name="quick_exit", status_code=204, sync_to_thread=True, request_max_body_size=4096)
    def quick_exit(self, request: Request, db: DB, data: JSONBody[dict[str, Any] | None] = None) -> Response[None]:
        """Quick exit's server half: both ways of being let in end here, a signed-in session and a report opened
        with its code and PIN, so their cookies are worthless even where the browser keeps them (the page's
        JavaScript cannot delete HttpOnly cookies); Clear-Site-Data asks the browser to forget them and its caches.
        The page sends it again from any page of the app Back reaches afterwards, so a sign-out that was lost on
        the way is repeated once there is a connection."""
        settings = request.app.state.settings
        session_token, case_token = session_tokens(request)
        if session_token:
            auth.end_session(db, session_token)
        if case_token:
            auth.end_case_session(db, case_token)
        # This device's push subscription (the page sends its endpoint): no more notifications on it.
        endpoint = (data or {}).get("endpoint") if isinstance(data, dict) else None
        if isinstance(endpoint, str) and endpoint:
            notifications.unsubscribe(db, endpoint)
        db.commit()
        response = Response(None, status_code=204, headers={"Clear-Site-Data": QUICK_EXIT_CLEARS})
        drop_cookie(response, auth.SESSION_COOKIE, settings)
        drop_cookie(response, CASE_COOKIE, settings)
        return response
