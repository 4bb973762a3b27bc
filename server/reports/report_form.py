"""The report form: what it sent (`ReportForm`), the form a person opens, and one validator per step of it.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col
from typing_extensions import override

from server.accounts.models import Child, District, Guardianship, Role, School, User
from server.forms import (
    PostedForm,
    posted,
    without_control_characters,
)
from server.i18n import gettext as _
from server.privacy import phone
from server.reports.models import (
    Category,
    Report,
)
from server.reports.village import validate_village
from server.reports.vocabulary import (
    ADULT_REPORTER_KINDS,
    ASSENT,
    CONTACT_METHODS,
    GENDERS,
    PARENT_CONSENT,
    PHONE_CONTACT_METHODS,
    REPORTER_KINDS,
    WHEN,
    WHERE,
    YES_NO_UNSURE,
)

LIMITS = {
    "child_words": 5000,
    "how_learned": 2000,
    "others_involved": 500,
    "where_detail": 200,
    "consent_by": 120,
    "consent_reason": 500,
    "contact_detail": 60,
    "contact_safe_time": 120,
    "student_name": 120,
    "student_class": 20,
}


@dataclass
class ReportForm(PostedForm):
    """What the report form sent, as typed, so that a form with errors comes back with everything kept."""

    reporter_kind: str = ""
    danger_now: str = ""
    categories: list[str] = field(default_factory=list)
    happened_when: str = ""
    happened_where: str = ""
    where_detail: str = ""
    district_id: str = ""
    village_id: str = ""
    school_id: str = ""
    child_id: str = ""
    child_age: str = ""
    child_gender: str = ""
    # A teacher may name the student and class, so that the counselor can find the child at school.
    student_name: str = ""
    student_class: str = ""
    child_words: str = ""
    how_learned: str = ""
    others_involved: str = ""
    child_knows: str = ""
    afraid_to_go_home: str = ""
    child_assent: str = ""
    parent_consent: str = ""
    consent_by: str = ""
    consent_reason: str = ""
    contact_method: str = "app"
    contact_detail: str = ""
    contact_safe_time: str = ""
    # For a signed-in person: "account" files the report into their account, "anonymous" sends it without.
    send_as: str = ""
    idempotency_key: str = ""
    website: str = ""  # the honeypot: hidden from people, filled in by bots
    # Fields that held control characters (removed from the values above, so the form comes back as it looked).
    unreadable: dict[str, str] = posted({}, read=False)

    MULTILINE = frozenset({"child_words", "how_learned"})

    @override
    def read(self, data: dict[str, Any]) -> None:
        """The form comes back as it looked on the screen: what `unreadable` names is taken out of the values."""
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, str):
                setattr(self, name, without_control_characters(value, multiline=name in self.MULTILINE))
        self.categories = [without_control_characters(c) for c in self.categories]


# Children and their friends: a report in a child's voice from an adult's account may be a child on a shared phone.
CHILD_VOICES = frozenset({"child", "friend"})


SEND_AS = ("", "account", "anonymous")


def files_into_account(form: ReportForm, user: User | None) -> bool:
    """Whether the report goes into the signed-in person's account (their "Laporan saya"). On a shared phone the
    person writing may not be the one signed in: a report in a child's voice from an adult's account goes into
    it only when "account" was chosen; anyone may choose to send without the account."""
    if user is None or form.send_as == "anonymous":
        return False
    if form.send_as == "account":
        return True
    return not (form.reporter_kind in CHILD_VOICES and user.role != Role.CHILD)


def default_reporter_kind(user: User | None) -> str:
    if user is None:
        return ""
    kinds: dict[str, str] = {Role.CHILD: "child", Role.PARENT: "parent", Role.TEACHER: "teacher"}
    return kinds.get(user.role, "other")


def asks_who(user: User | None) -> bool:
    """Whether the form gives "Siapa kamu?" a step of its own. A teacher is known from her account: her form
    folds the question (and "send without the account", for someone else on her phone) into its first step."""
    return user is None or user.role != Role.TEACHER


def blank_form(session: Session, user: User | None, idempotency_key: str) -> ReportForm:
    """The form a person opens. For a teacher it is answered as far as her account and her last report into it
    tell: her school (and its kecamatan), the class she named last, and how she asked to be contacted. Kept on
    the server with her account, never in the phone's storage."""
    form = ReportForm(reporter_kind=default_reporter_kind(user), idempotency_key=idempotency_key)
    if user is None or user.role != Role.TEACHER:
        return form
    school = session.get(School, user.school_id) if user.school_id else None
    if school is not None and school.active:
        form.school_id, form.district_id = str(school.id), str(school.district_id)
    hers = (select(Report).where(col(Report.submitted_by_id) == user.id, col(Report.reporter_kind) == "teacher")
            .order_by(col(Report.created_at).desc(), col(Report.id).desc()).limit(1))
    named = session.execute(hers.where(col(Report.student_class) != "")).scalars().first()
    form.student_class = named.student_class if named is not None else ""
    last = session.execute(hers).scalars().first()
    if last is not None and last.contact_method in CONTACT_METHODS:
        form.contact_method = last.contact_method
        form.contact_detail, form.contact_safe_time = phone.shown(last.contact_detail), last.contact_safe_time
    return form


def int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def contact_number(form: ReportForm) -> phone.Phone:
    """The number to call or message, in one form; a WhatsApp message needs a mobile number."""
    return (phone.parse_mobile if form.contact_method == "whatsapp" else phone.parse)(form.contact_detail)


# One validator per step of the form, called in the order the old single function checked the fields, so that the
# errors come back in the same order (the summary on top of the form lists them so). Each adds its messages to
# `errors`; some drop answers the step does not ask of this reporter.
Errors = dict[str, str]


def validate_report(session: Session, form: ReportForm, user: User | None) -> dict[str, str]:
    errors: Errors = {}
    _check_who(form, user, errors)
    _check_danger(form, errors)
    _check_what(form, errors)
    _check_when_and_where(session, form, errors)
    _check_child(session, form, user, errors)
    _check_words(form, errors)
    _check_afraid(form, errors)
    _check_consent(form, errors)
    _check_contact(form, errors)
    _check_lengths(form, errors)
    _check_hidden(form, user, errors)
    return errors


def _check_who(form: ReportForm, user: User | None, errors: Errors) -> None:
    """"Siapa kamu?" and, for a signed-in person, whether the report goes into the account."""
    if user is not None and form.send_as not in SEND_AS:
        errors["send_as"] = _("Pilih salah satu: simpan di akun ini, atau kirim tanpa akun.")
    if not files_into_account(form, user):
        form.child_id = ""  # a child named from a parent's list would tie the report to the account
    if form.reporter_kind not in REPORTER_KINDS:
        errors["reporter_kind"] = _("Pilih siapa kamu.")


def _check_danger(form: ReportForm, errors: Errors) -> None:
    if form.danger_now not in ("yes", "no"):
        errors["danger_now"] = _("Jawab dulu: apakah ada yang dalam bahaya sekarang?")


def _check_what(form: ReportForm, errors: Errors) -> None:
    if not form.categories:
        errors["categories"] = _("Pilih setidaknya satu hal yang terjadi. Kalau tidak ada yang cocok, pilih „Hal lain”.")
    elif any(c not in set(Category) for c in form.categories):
        errors["categories"] = _("Pilih dari daftar yang ada.")


def _check_when_and_where(session: Session, form: ReportForm, errors: Errors) -> None:
    if form.happened_when and form.happened_when not in WHEN:
        errors["happened_when"] = _("Pilih dari daftar yang ada.")
    if form.happened_where and form.happened_where not in WHERE:
        errors["happened_where"] = _("Pilih dari daftar yang ada.")
    _check_district(session, form, errors)
    if form.school_id:
        school = session.get(School, int_or_none(form.school_id) or 0)
        if school is None or not school.active:
            errors["school_id"] = _("Pilih sekolah dari daftar.")


def _check_district(session: Session, form: ReportForm, errors: Errors) -> None:
    """The kecamatan, when one was chosen, is one of the list; the kelurahan/desa, when chosen, is one of its."""
    if form.district_id and (session.get(District, int_or_none(form.district_id) or 0) is None):
        errors["district_id"] = _("Pilih kecamatan dari daftar.")
    errors.update(validate_village(session, form.district_id, form.village_id))


def _check_child(session: Session, form: ReportForm, user: User | None, errors: Errors) -> None:
    if form.child_age:
        age = int_or_none(form.child_age)
        if age is None or not 0 <= age <= 21:
            errors["child_age"] = _("Tulis umur dengan angka, 0 sampai 21 tahun.")
    if form.child_gender not in GENDERS:
        errors["child_gender"] = _("Pilih dari daftar yang ada.")
    if form.child_id and not _is_own_child(session, form.child_id, user):
        errors["child_id"] = _("Pilih anak Anda dari daftar.")


def _is_own_child(session: Session, child_id: str, user: User | None) -> bool:
    """A parent's report may name one of the children in their account, and no other."""
    if user is None or user.role != Role.PARENT:
        return False
    own = session.execute(
        select(col(Child.id)).join(Guardianship, col(Guardianship.child_id) == col(Child.id))
        .where(col(Guardianship.parent_id) == user.id)
    ).scalars()
    return int_or_none(child_id) in set(own)


def _check_words(form: ReportForm, errors: Errors) -> None:
    if not form.child_words:
        errors["child_words"] = (
            _("Ceritakan dengan kata-katamu sendiri apa yang terjadi. Satu kalimat pun cukup.")
            if form.reporter_kind in ("child", "friend", "")
            else _("Tuliskan apa yang terjadi, sebisa mungkin dengan kata-kata anak itu sendiri.")
        )
    if form.reporter_kind in ADULT_REPORTER_KINDS and form.child_knows not in YES_NO_UNSURE:
        errors["child_knows"] = _("Apakah anak tahu hal ini dilaporkan? Pilih salah satu.")


def _check_afraid(form: ReportForm, errors: Errors) -> None:
    """Asked with "when and where"; checked here so the errors keep the order they always had."""
    if form.afraid_to_go_home and form.afraid_to_go_home not in YES_NO_UNSURE:
        errors["afraid_to_go_home"] = _("Pilih dari daftar yang ada.")


def _check_consent(form: ReportForm, errors: Errors) -> None:
    if form.child_assent and form.child_assent not in ASSENT:
        errors["child_assent"] = _("Pilih dari daftar yang ada.")
    if form.parent_consent and form.parent_consent not in PARENT_CONSENT:
        errors["parent_consent"] = _("Pilih dari daftar yang ada.")
    if form.parent_consent == "parent_may_harm" and form.reporter_kind in ADULT_REPORTER_KINDS:
        # A child is not asked who consented instead of their parents: the counselor records that with them.
        if not form.consent_by:
            errors["consent_by"] = _("Tulis siapa yang memberi persetujuan sebagai ganti orang tua (misalnya wali, guru BK, atau kerabat).")
        if not form.consent_reason:
            errors["consent_reason"] = _("Tulis singkat mengapa orang tua tidak dimintai persetujuan.")
    if form.reporter_kind != "teacher":
        form.student_name = form.student_class = ""  # asked of teachers only; a child is never made to name one
        form.unreadable.pop("student_name", None)
        form.unreadable.pop("student_class", None)


def _check_contact(form: ReportForm, errors: Errors) -> None:
    if form.contact_method not in PHONE_CONTACT_METHODS:
        # The number and the safe time are asked (and shown) only for a call or WhatsApp: whatever stayed in the
        # hidden fields is dropped, not refused, and never kept.
        form.contact_detail = form.contact_safe_time = ""
        form.unreadable.pop("contact_detail", None)
        form.unreadable.pop("contact_safe_time", None)
    if form.contact_method not in CONTACT_METHODS:
        errors["contact_method"] = _("Pilih cara menghubungi dari daftar.")
    elif form.contact_method in PHONE_CONTACT_METHODS:
        try:
            contact_number(form)
        except phone.PhoneError as exc:
            errors["contact_detail"] = str(exc)


def _check_lengths(form: ReportForm, errors: Errors) -> None:
    for name, limit in LIMITS.items():
        if len(getattr(form, name, "") or "") > limit:
            errors[name] = _("Terlalu panjang: paling banyak %(n)s huruf.", n=limit)


def _check_hidden(form: ReportForm, user: User | None, errors: Errors) -> None:
    """The fields people do not see: a broken idempotency key, and control characters anywhere. Hidden fields have
    no place on the page to say it: their message goes on top of the form."""
    key = form.idempotency_key
    if key and not (8 <= len(key) <= 64 and key.replace("-", "").isalnum()):
        errors["form"] = _("Formulir ini rusak. Muat ulang halaman lalu coba lagi.")
    hidden = {"idempotency_key", "website"} | ({"send_as"} if user is None else set())
    for name, message in form.unreadable.items():
        errors["form" if name in hidden else name] = message
