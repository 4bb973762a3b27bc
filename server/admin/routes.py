"""Supervisor pages: people, schools, districts, the service's settings, the audit log.

Thin: the rules are in admin/service.py (and accounts/service.py for accounts). Every route is for
supervisors only. Forms post and redirect (303) with a short confirmation; an invalid form comes back with
status 422, the message next to each field and what was typed (never a password).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from sqlmodel import Session

from server import audit, clock, service_info, workdays
from server.accounts import auth, places, two_factor
from server.accounts import service as accounts
from server.accounts.models import District, Role, School, User
from server.admin import holidays, service
from server.db import DB
from server.forms import bounded_int, day_within_range, one
from server.i18n import LOCAL, format_local_date
from server.i18n import lazy_gettext as _l
from server.notifications import ladder
from server.notifications import service as notifications
from server.web import PRIVATE, TextForm, client_ip, done, notice, page

SupervisorRequest = Request[User, Any, Any]

# Confirmations after a redirect, by a short code in the address: the page never echoes text from the URL.
NOTICES = {
    "pengguna-dibuat": _l("Akun sudah dibuat. Berikan kata sandi awalnya kepada orangnya secara langsung."),
    "dinonaktifkan": _l("Akun sudah dinonaktifkan. Orang ini sudah dikeluarkan dari semua perangkat."),
    "diaktifkan": _l("Akun sudah diaktifkan kembali."),
    "anak-dihubungkan": _l("Anak sudah dihubungkan dengan akun ini."),
    "sekolah-dibuat": _l("Sekolah sudah ditambahkan."),
    "sekolah-dinonaktifkan": _l("Sekolah sudah dinonaktifkan. Sekolah ini tidak bisa dipilih lagi untuk akun baru."),
    "sekolah-diaktifkan": _l("Sekolah sudah diaktifkan kembali."),
    "kecamatan-dibuat": _l("Kecamatan sudah ditambahkan."),
    "kecamatan-dinonaktifkan": _l("Kecamatan sudah dinonaktifkan. Kecamatan ini tidak bisa dipilih lagi."),
    "kecamatan-diaktifkan": _l("Kecamatan sudah diaktifkan kembali."),
    "layanan-disimpan": _l("Pengaturan layanan sudah disimpan dan tampil di semua halaman."),
    "dua-langkah-wajib": _l("Verifikasi dua langkah sekarang wajib untuk semua konselor dan supervisor."),
    "dua-langkah-tidak-wajib": _l("Verifikasi dua langkah tidak lagi wajib."),
    "dua-langkah-diatur-ulang": _l(
        "Verifikasi dua langkah orang ini sudah diatur ulang dan ia sudah dikeluarkan dari semua perangkat. "
        "Saat masuk lagi dengan kata sandinya, ia langsung diminta memasangnya kembali."
    ),
    "libur-ditambah": _l("Hari libur sudah ditambahkan."),
    "libur-dihapus": _l("Hari libur sudah dihapus."),
}


def _actor(request: SupervisorRequest, state: State) -> service.Actor:
    return service.Actor(request.user.id, request.user.username, client_ip(request.scope, state.settings))


def _get_or_404(db: Session, model: type, object_id: int) -> Any:
    found = db.get(model, object_id)
    if found is None:
        raise NotFoundException()
    return found


def _role_options() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in Role]


def _district_options(db: Session) -> list[tuple[int, str]]:
    return [(district.id, district.name) for district in service.districts(db, active_only=True)]


class AdminController(Controller):
    path = "/admin"
    guards = [auth.supervisors_only]

    @get("/", name="admin")
    async def index(self, request: SupervisorRequest) -> Any:
        return page(request, "admin/index.html")

    # --- people --------------------------------------------------------------------------------------------

    @get("/pengguna", name="admin_users", sync_to_thread=True)
    def users(
        self, request: SupervisorRequest, db: DB,
        role_asked: Annotated[str | None, QueryParameter(name="peran")] = None,
        after: Annotated[int | None, QueryParameter(name="setelah")] = None,
    ) -> Any:
        role = service.role_filter(role_asked)
        users = service.users_page(db, role=role, after=after)
        return page(
            request, "admin/users.html", block="user_list",
            users=users, role=role.value if role else "", after=after, role_options=_role_options(),
            schools={school.id: school.name for school, _district in service.schools(db)},
            districts={district.id: district.name for district in service.districts(db)},
        )

    def _new_user_page(self, request: SupervisorRequest, db: DB, form: accounts.UserForm, status: int = 200) -> Any:
        return page(
            request, "admin/user_new.html", status_code=status, form=form, errors=form.errors,
            role_options=_role_options(), school_options=service.school_options(db),
            district_options=_district_options(db),
        )

    @get("/pengguna/baru", name="admin_user_new", sync_to_thread=True)
    def new_user(self, request: SupervisorRequest, db: DB) -> Any:
        return self._new_user_page(request, db, accounts.UserForm())

    @post("/pengguna/baru", sync_to_thread=True)
    def create_user(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = accounts.UserForm.from_data(data)
        user = service.create_user(db, form, _actor(request, state))
        if user is None:
            form.password = ""
            return self._new_user_page(request, db, form, status=422)
        db.commit()
        return done(f"/admin/pengguna/{user.id}", "pengguna-dibuat")

    def _user_page(
        self, request: SupervisorRequest, db: DB, person: User, *, child_form: service.ChildForm | None = None,
        errors: dict[str, str] | None = None, status: int = 200,
    ) -> Any:
        child_form = child_form or service.ChildForm()
        return page(
            request, "admin/user.html", status_code=status, person=person, notice=notice(request, NOTICES),
            school=db.get(School, person.school_id) if person.school_id else None,
            district=db.get(District, person.district_id) if person.district_id else None,
            children=accounts.children_of(db, person.id) if person.role == Role.PARENT else [],
            child_form=child_form, errors=errors or child_form.errors,
            school_options=service.school_options(db), relation_options=list(service.RELATIONS.items()),
        )

    @get("/pengguna/{user_id:int}", name="admin_user", sync_to_thread=True)
    def user(self, request: SupervisorRequest, db: DB, user_id: FromPath[int]) -> Any:
        return self._user_page(request, db, _get_or_404(db, User, user_id))

    @post("/pengguna/{user_id:int}/nonaktifkan", sync_to_thread=True)
    def deactivate_user(self, request: SupervisorRequest, db: DB, state: State, user_id: FromPath[int]) -> Any:
        person = _get_or_404(db, User, user_id)
        if problem := service.set_user_active(db, person, active=False, actor=_actor(request, state)):
            return self._user_page(request, db, person, errors={"form": problem}, status=422)
        db.commit()
        return done(f"/admin/pengguna/{person.id}", "dinonaktifkan")

    @post("/pengguna/{user_id:int}/aktifkan", sync_to_thread=True)
    def reactivate_user(self, request: SupervisorRequest, db: DB, state: State, user_id: FromPath[int]) -> Any:
        person = _get_or_404(db, User, user_id)
        service.set_user_active(db, person, active=True, actor=_actor(request, state))
        db.commit()
        return done(f"/admin/pengguna/{person.id}", "diaktifkan")

    @post("/pengguna/{user_id:int}/dua-langkah/atur-ulang", sync_to_thread=True)
    def reset_two_factor(self, request: SupervisorRequest, db: DB, state: State, user_id: FromPath[int]) -> Any:
        person = _get_or_404(db, User, user_id)
        if problem := service.reset_two_factor(db, person, _actor(request, state)):
            return self._user_page(request, db, person, errors={"form": problem}, status=422)
        db.commit()
        return done(f"/admin/pengguna/{person.id}", "dua-langkah-diatur-ulang")

    @post("/pengguna/{user_id:int}/anak", sync_to_thread=True)
    def link_child(self, request: SupervisorRequest, data: TextForm, db: DB, state: State, user_id: FromPath[int]) -> Any:
        person = _get_or_404(db, User, user_id)
        form = service.ChildForm.from_data(data)
        if service.link_child(db, person, form, _actor(request, state)) is None:
            return self._user_page(request, db, person, child_form=form, status=422)
        db.commit()
        return done(f"/admin/pengguna/{person.id}", "anak-dihubungkan")

    # --- schools -------------------------------------------------------------------------------------------

    def _schools_page(self, request: SupervisorRequest, db: DB, form: service.PlaceForm, status: int = 200) -> Any:
        return page(
            request, "admin/schools.html", status_code=status, schools=service.schools(db), form=form,
            errors=form.errors, district_options=_district_options(db), notice=notice(request, NOTICES),
        )

    @get("/sekolah", name="admin_schools", sync_to_thread=True)
    def schools(self, request: SupervisorRequest, db: DB) -> Any:
        return self._schools_page(request, db, service.PlaceForm())

    @post("/sekolah", sync_to_thread=True)
    def create_school(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = service.PlaceForm.from_data(data)
        if service.create_school(db, form, _actor(request, state)) is None:
            return self._schools_page(request, db, form, status=422)
        db.commit()
        places.forget()
        return done("/admin/sekolah", "sekolah-dibuat")

    @post("/sekolah/{school_id:int}/nonaktifkan", sync_to_thread=True)
    def deactivate_school(self, request: SupervisorRequest, db: DB, state: State, school_id: FromPath[int]) -> Any:
        service.set_place_active(db, _get_or_404(db, School, school_id), active=False, actor=_actor(request, state))
        db.commit()
        places.forget()
        return done("/admin/sekolah", "sekolah-dinonaktifkan")

    @post("/sekolah/{school_id:int}/aktifkan", sync_to_thread=True)
    def reactivate_school(self, request: SupervisorRequest, db: DB, state: State, school_id: FromPath[int]) -> Any:
        service.set_place_active(db, _get_or_404(db, School, school_id), active=True, actor=_actor(request, state))
        db.commit()
        places.forget()
        return done("/admin/sekolah", "sekolah-diaktifkan")

    # --- districts -----------------------------------------------------------------------------------------

    def _districts_page(self, request: SupervisorRequest, db: DB, form: service.PlaceForm, status: int = 200) -> Any:
        return page(
            request, "admin/districts.html", status_code=status, districts=service.districts(db), form=form,
            errors=form.errors, notice=notice(request, NOTICES),
        )

    @get("/kecamatan", name="admin_districts", sync_to_thread=True)
    def districts(self, request: SupervisorRequest, db: DB) -> Any:
        return self._districts_page(request, db, service.PlaceForm())

    @post("/kecamatan", sync_to_thread=True)
    def create_district(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = service.PlaceForm.from_data({"name": data.get("name", "")})
        if service.create_district(db, form, _actor(request, state)) is None:
            return self._districts_page(request, db, form, status=422)
        db.commit()
        places.forget()
        return done("/admin/kecamatan", "kecamatan-dibuat")

    @post("/kecamatan/{district_id:int}/nonaktifkan", sync_to_thread=True)
    def deactivate_district(self, request: SupervisorRequest, db: DB, state: State, district_id: FromPath[int]) -> Any:
        place = _get_or_404(db, District, district_id)
        service.set_place_active(db, place, active=False, actor=_actor(request, state))
        db.commit()
        places.forget()
        return done("/admin/kecamatan", "kecamatan-dinonaktifkan")

    @post("/kecamatan/{district_id:int}/aktifkan", sync_to_thread=True)
    def reactivate_district(self, request: SupervisorRequest, db: DB, state: State, district_id: FromPath[int]) -> Any:
        place = _get_or_404(db, District, district_id)
        service.set_place_active(db, place, active=True, actor=_actor(request, state))
        db.commit()
        places.forget()
        return done("/admin/kecamatan", "kecamatan-diaktifkan")

    # --- service settings ----------------------------------------------------------------------------------

    def _service_page(self, request: SupervisorRequest, db: DB, state: State, form: dict[str, str],
                      errors: dict[str, str], status: int = 200) -> Any:
        return page(
            request, "admin/service.html", status_code=status, form=form, errors=errors,
            notice=notice(request, NOTICES) if status == 200 else None,
            two_factor_since=two_factor.required_since(db), production=state.settings.is_production,
            grace_days=state.settings.two_factor_grace_days,
        )

    @get("/layanan", name="admin_service", sync_to_thread=True)
    def service_settings(self, request: SupervisorRequest, db: DB, state: State) -> Any:
        return self._service_page(request, db, state, service.service_form(db), {})

    @post("/layanan", sync_to_thread=True)
    def save_service_settings(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        form = {name: data.get(name, "") for name in service.SERVICE_FIELDS}
        errors = service.save_service_info(db, form, _actor(request, state))
        if errors:
            return self._service_page(request, db, state, form, errors, status=422)
        db.commit()
        service_info.forget()
        return done("/admin/layanan", "layanan-disimpan")

    @post("/layanan/dua-langkah", sync_to_thread=True)
    def require_two_factor(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        required = data.get("required") == "ya"
        service.set_two_factor_required(db, required, _actor(request, state))
        db.commit()
        return done("/admin/layanan", "dua-langkah-wajib" if required else "dua-langkah-tidak-wajib")

    # --- notification delivery -----------------------------------------------------------------------------

    @get("/pemberitahuan", name="admin_notifications", opt=PRIVATE, sync_to_thread=True)
    def notification_delivery(self, request: SupervisorRequest, db: DB) -> Any:
        report = notifications.delivery_report(db, since=clock.now() - timedelta(days=7))
        # Reminders of sessions in the last twelve months: the share that reached their person (ladder.py).
        reach = ladder.reach_by_month(db, object_type="appointment", since=clock.now() - timedelta(days=365))
        return page(request, "admin/notifications.html", report=report, describe=notifications.describe,
                    failure_cause=notifications.failure_cause, reach=reach)

    # --- audit log -----------------------------------------------------------------------------------------

    @get("/audit", name="admin_audit", sync_to_thread=True)
    def audit_log(self, request: SupervisorRequest, db: DB,
                  before: Annotated[int | None, QueryParameter(name="sebelum")] = None) -> Any:
        return page(
            request, "admin/audit.html", entries=service.audit_page(db, before=before), before=before,
            action_label=service.action_label, object_label=service.object_label, actor_shown=audit.actor_shown,
        )


# --- public holidays (beside the schedule pages, at /jadwal/libur) ---------------------------------------------


class HolidaysController(Controller):
    """Supervisors enter public holidays; the pages sit with the schedule (same addresses as ever)."""

    opt = PRIVATE
    path = "/jadwal/libur"
    guards = [auth.staff_only, auth.supervisors_only]

    def _holidays_page(self, request: SupervisorRequest, db: Session, year: int, *,
                       errors: dict[str, str] | None = None, line_errors: list[str] | None = None,
                       values: dict[str, Any] | None = None, status_code: int = 200) -> Any:
        days = holidays.holidays_of_year(db, year)
        clashes = bounded_int(request.query_params.get("bentrok", "")) or 0
        return page(request, "admin/holidays.html", status_code=status_code, year=year, holidays=days,
                    labels={h.day: format_local_date(datetime.combine(h.day, time(12), tzinfo=LOCAL), "EEEE, d MMMM y")
                            for h in days},
                    decree=holidays.decree(year),
                    errors=errors or {}, line_errors=line_errors or [], values=values or {}, notice=notice(request, NOTICES),
                    clashes=clashes)

    @get("/", name="holidays", sync_to_thread=True)
    def holidays(self, request: SupervisorRequest, db: DB,
                 year: Annotated[str, QueryParameter(name="tahun")] = "") -> Any:
        return self._holidays_page(request, db, holidays.year_shown(bounded_int(year)))

    @post("/", sync_to_thread=True)
    def add_holidays(self, request: SupervisorRequest, data: TextForm, db: DB, state: State) -> Any:
        days, errors, line_errors, clashes = holidays.add_holidays(
            db, request.user, kind=one(data, "kind"), lines=str(data.get("lines", "")),
            ip=client_ip(request.scope, state.settings))
        if errors:
            year = days[0][0].year if days else clock.today_local().year
            return self._holidays_page(request, db, year, errors=errors, line_errors=line_errors, values=data,
                                       status_code=422)
        db.commit()
        workdays.forget_years()
        year_url = f"/jadwal/libur?tahun={days[0][0].year}" + (f"&bentrok={clashes}" if clashes else "")
        return done(year_url, "libur-ditambah")

    @post("/{day:str}/hapus", sync_to_thread=True)
    def remove_holiday(self, request: SupervisorRequest, day: FromPath[str], db: DB, state: State) -> Any:
        wanted = day_within_range(day)
        holiday = holidays.remove_holiday(db, request.user, wanted, client_ip(request.scope, state.settings)) \
            if wanted else None
        if holiday is None:
            raise NotFoundException()
        db.commit()
        workdays.forget_years()
        return done(f"/jadwal/libur?tahun={holiday.day.year}", "libur-dihapus")
