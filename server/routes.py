"""Pages that belong to no domain: home, health check, language choice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Redirect
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text
from sqlmodel import Session

from server import i18n
from server.i18n import gettext as _
from server.web import TextForm, page, set_cookie

ONE_YEAR = 365 * 24 * 3600


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths: never let a link send someone to another site after an action here."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


@dataclass(frozen=True)
class HomeLink:
    href: str
    title: str
    text: str


def home_links(user: Any) -> list[HomeLink]:
    """Only what exists: each journey adds its link here when it is built, so the home page has no dead ends."""
    links = [
        HomeLink("/lapor", _("Lapor"), _("Ceritakan apa yang terjadi. Boleh tanpa nama.")),
        HomeLink("/cek", _("Cek laporan"), _("Lihat kabar laporanmu dan balas pesan konselor dengan kode laporan dan PIN.")),
    ]
    if user is None:
        return [
            *links,
            HomeLink("/konseling", _("Minta konseling"),
                     _("Pilih waktu untuk bicara dengan konselor, dengan akun atau dengan kode laporan dan PIN.")),
            HomeLink("/masuk", _("Masuk"), _("Untuk petugas, guru, orang tua, dan anak yang punya akun.")),
        ]
    if user.role in ("counselor", "supervisor"):
        return [
            HomeLink("/kasus", _("Kotak masuk kasus"), _("Laporan baru dan kasus yang sedang ditangani.")),
            HomeLink("/jadwal", _("Jadwal konseling"), _("Permintaan yang menunggu jawaban, jadwal Anda, dan jam kerja.")),
            *links,
        ]
    return [
        *links,
        HomeLink("/konseling", _("Minta konseling"), _("Pilih waktu untuk bicara dengan konselor.")),
        HomeLink("/konseling/saya", _("Jadwal saya"), _("Jadwal konseling yang Anda minta dan kabarnya.")),
        HomeLink("/laporan-saya", _("Laporan saya"), _("Kabar laporan yang Anda kirim.")),
    ]


class CoreController(Controller):
    @get("/", name="home")
    async def home(self, request: Request) -> Any:
        return page(request, "home.html", links=home_links(request.user))

    @get("/healthz", name="healthz", sync_to_thread=True)
    def healthz(self, state: State) -> Response[dict[str, str]]:
        try:
            with Session(state.engine) as session:
                session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure to reach the database is the answer
            return Response({"status": "error", "database": "unreachable"}, status_code=HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "database": "ok"})

    @post("/bahasa", name="language")
    async def choose_language(
        self, data: TextForm, state: State
    ) -> Redirect:
        language = data.get("bahasa", i18n.DEFAULT_LANGUAGE)
        if language not in i18n.LANGUAGES:
            language = i18n.DEFAULT_LANGUAGE
        response = Redirect(safe_next(data.get("lanjut")), status_code=303)
        set_cookie(response, i18n.LANGUAGE_COOKIE, language, state.settings, max_age=ONE_YEAR, prefixed=False)
        return response
