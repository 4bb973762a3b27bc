"""Rules for reports and cases: submission, codes and PINs, deadlines, who may see what, the case states.

Route handlers call these functions and render what they return; nothing here knows about HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from server import audit, clock, ratelimit, telemetry
from server.accounts import auth
from server.accounts.models import Child, District, Guardianship, Role, School, User, Village
from server.accounts.visitor import Visitor
from server.forms import (
    MAX_ID,
    PostedForm,
    day_within_range,
    has_control_characters,
    posted,
    unreadable_message,
    without_control_characters,
)
from server.i18n import gettext as _
from server.models import AuditEntry
from server.notifications import outbox
from server.privacy import masking, phone
from server.reports import case_hooks, simfoni
from server.reports.models import (
    FAR_FUTURE,
    OPEN_STATUSES,
    CaseEvent,
    CaseService,
    Category,
    Perpetrator,
    Referral,
    Report,
    ReportCategory,
    Status,
    Urgency,
)
from server.reports.village import chosen_village, district_of, validate_village
from server.reports.vocabulary import (
    ADULT_REPORTER_KINDS,
    AGENCY_KINDS,
    ASSENT,
    CONTACT_METHODS,
    GENDERS,
    PARENT_CONSENT,
    PHONE_CONTACT_METHODS,
    REFERRAL_STATUSES,
    REPORTER_KINDS,
    WHEN,
    WHERE,
    YES_NO_UNSURE,
)
from server.settings import Settings
from server.workdays import add_working_days, years_without_holidays

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
    "message": 2000,
    "note": 5000,
    "reason": 1000,
    "agency_name": 120,
}
SUBMISSIONS_PER_ADDRESS_PER_HOUR = 10
# A report form sent again (Back then Reload, or an offline queue whose answer was lost): counted per address, so
# nobody can try idempotency keys at speed; the receipt is given again, to the browser that sent it, for a day.
RESENDS_PER_ADDRESS_PER_HOUR = 20
RECEIPT_RESEND_WINDOW = timedelta(hours=24)
# Refused attempts (inside a wait) are audited once per key and window, not once each.
LIMITED_AUDIT_WINDOW = timedelta(minutes=15)
CODE_ATTEMPTS_PER_CODE = 5
CODE_ATTEMPTS_PER_ADDRESS = 20
# Wrong PINs slow the next attempt down rather than lock the code, so a person who knows a child's code cannot
# lock the child out of their own report: after the free attempts each wait doubles from 30 s up to 15
# minutes, which still leaves a million PINs out of reach (fewer than a hundred guesses a day per code).
CODE_BACKOFF = ratelimit.Backoff(CODE_ATTEMPTS_PER_CODE, 30, 15 * 60, timedelta(hours=24))
CODE_ADDRESS_BACKOFF = ratelimit.Backoff(CODE_ATTEMPTS_PER_ADDRESS, 30, 15 * 60, timedelta(hours=24))
# Counted per code and client (an address, or a phone that opened the report before), never per code alone; once
# 20 different unknown clients have failed at one code, each unknown client gets one guess per 15 minutes.
CODE_GUESSES = ratelimit.Guesses(CODE_BACKOFF, CODE_ADDRESS_BACKOFF, crowded=CODE_ATTEMPTS_PER_ADDRESS)
MESSAGES_PER_CASE_PER_HOUR = 30
POLICE_DEADLINE = timedelta(hours=72)
FIRST_FOLLOW_UP_WORKING_DAYS = 3

# Crockford's base32: no I, L, O or U, so a code read aloud or typed on a phone is hard to get wrong.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 16 × 5 bits = 80 bits
PIN_LENGTH = 6

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.SUBMITTED: frozenset({Status.TRIAGED, Status.ASSIGNED, Status.DUPLICATE, Status.OUT_OF_SCOPE,
                                 Status.UNFOUNDED}),
    Status.TRIAGED: frozenset({Status.ASSIGNED, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED}),
    Status.ASSIGNED: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.MONITORING, Status.CLOSED,
                                Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED}),
    Status.IN_PROGRESS: frozenset({Status.REFERRED, Status.MONITORING, Status.CLOSED, Status.UNFOUNDED}),
    Status.REFERRED: frozenset({Status.IN_PROGRESS, Status.MONITORING, Status.CLOSED}),
    Status.MONITORING: frozenset({Status.IN_PROGRESS, Status.REFERRED, Status.CLOSED}),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.DUPLICATE: frozenset({Status.REOPENED}),
    Status.OUT_OF_SCOPE: frozenset({Status.REOPENED}),
    Status.UNFOUNDED: frozenset({Status.REOPENED}),
    Status.REOPENED: frozenset({Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS}),
}
NEEDS_REASON = frozenset({Status.CLOSED, Status.DUPLICATE, Status.OUT_OF_SCOPE, Status.UNFOUNDED, Status.REOPENED})


class CaseError(Exception):
    """A case change that is not allowed; the message is for the person who tried it."""


class StaleCase(CaseError):
    """Someone else changed the case since the page was loaded."""


class FieldErrors(CaseError):
    """A case form with answers to fix: one message per field, shown next to that field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


# --- codes and PINs ---------------------------------------------------------------------------------------


def _encode(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _position in range(length):
        number, index = divmod(number, 32)
        chars.append(CODE_ALPHABET[index])
    return "".join(chars)


def make_code_and_pin() -> tuple[str, str]:
    """A fresh random code (80 bits) and PIN, never derived from anything the browser sent: the form's
    idempotency key travels in the form and sits in the phone's offline queue, so it must open nothing."""
    code = _encode(secrets.token_bytes(10), CODE_LENGTH)
    pin = "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))
    return code, pin


def format_code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise_code(typed: str) -> str:
    """What people type: any case, spaces or dashes, and the letters Crockford maps to digits."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum())
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"}))


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def token_hash(value: str) -> str:
    """How idempotency keys and browser tokens are kept: random values, so a plain SHA-256 is enough."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_idempotency_key() -> str:
    """Put in the form by the server, so that a form sent twice without JavaScript is recognised too."""
    return secrets.token_hex(16)


def new_browser_token() -> str:
    return secrets.token_urlsafe(32)


def _sealing_key(settings: Settings, browser_token: str) -> bytes:
    return hmac.new(settings.secret_key.encode(), b"receipt:" + browser_token.encode(), hashlib.sha256).digest()


def seal_receipt(settings: Settings, browser_token: str, code: str, pin: str) -> str:
    """The code and PIN, encrypted under a key only the browser's token opens (the database keeps only the token's
    hash), so that a database copy alone gives nobody a receipt."""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_sealing_key(settings, browser_token)).encrypt(nonce, f"{code}:{pin}".encode(), None)
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal_receipt(settings: Settings, browser_token: str, sealed: str) -> tuple[str, str] | None:
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        code, pin = AESGCM(_sealing_key(settings, browser_token)).decrypt(raw[:12], raw[12:], None).decode().split(":")
    except (InvalidTag, ValueError):
        return None
    return code, pin


# --- submitting a report ----------------------------------------------------------------------------------


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
    return {Role.CHILD: "child", Role.PARENT: "parent", Role.TEACHER: "teacher"}.get(user.role, "other")


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
    hers = (select(Report).where(Report.submitted_by_id == user.id, Report.reporter_kind == "teacher")
            .order_by(Report.created_at.desc(), Report.id.desc()).limit(1))
    named = session.execute(hers.where(Report.student_class != "")).scalars().first()
    form.student_class = named.student_class if named is not None else ""
    last = session.execute(hers).scalars().first()
    if last is not None:
        if last.contact_method in CONTACT_METHODS:
            form.contact_method = last.contact_method
            form.contact_detail, form.contact_safe_time = phone.shown(last.contact_detail), last.contact_safe_time
    return form


def _int_or_none(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _contact_number(form: ReportForm) -> phone.Phone:
    """The number to call or message, in one form; a WhatsApp message needs a mobile number."""
    return (phone.parse_mobile if form.contact_method == "whatsapp" else phone.parse)(form.contact_detail)


def validate_report(session: Session, form: ReportForm, user: User | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if user is not None and form.send_as not in SEND_AS:
        errors["send_as"] = _("Pilih salah satu: simpan di akun ini, atau kirim tanpa akun.")
    if not files_into_account(form, user):
        form.child_id = ""  # a child named from a parent's list would tie the report to the account
    if form.reporter_kind not in REPORTER_KINDS:
        errors["reporter_kind"] = _("Pilih siapa kamu.")
    if form.danger_now not in ("yes", "no"):
        errors["danger_now"] = _("Jawab dulu: apakah ada yang dalam bahaya sekarang?")
    if not form.categories:
        errors["categories"] = _("Pilih setidaknya satu hal yang terjadi. Kalau tidak ada yang cocok, pilih „Hal lain”.")
    elif any(c not in set(Category) for c in form.categories):
        errors["categories"] = _("Pilih dari daftar yang ada.")
    if form.happened_when and form.happened_when not in WHEN:
        errors["happened_when"] = _("Pilih dari daftar yang ada.")
    if form.happened_where and form.happened_where not in WHERE:
        errors["happened_where"] = _("Pilih dari daftar yang ada.")
    if form.district_id and (session.get(District, _int_or_none(form.district_id) or 0) is None):
        errors["district_id"] = _("Pilih kecamatan dari daftar.")
    errors.update(validate_village(session, form.district_id, form.village_id))
    if form.school_id:
        school = session.get(School, _int_or_none(form.school_id) or 0)
        if school is None or not school.active:
            errors["school_id"] = _("Pilih sekolah dari daftar.")
    if form.child_age:
        age = _int_or_none(form.child_age)
        if age is None or not 0 <= age <= 21:
            errors["child_age"] = _("Tulis umur dengan angka, 0 sampai 21 tahun.")
    if form.child_gender not in GENDERS:
        errors["child_gender"] = _("Pilih dari daftar yang ada.")
    if form.child_id:
        if user is None or user.role != Role.PARENT or _int_or_none(form.child_id) not in {
            c.id for c in session.execute(
                select(Child).join(Guardianship, Guardianship.child_id == Child.id)
                .where(Guardianship.parent_id == user.id)
            ).scalars()
        }:
            errors["child_id"] = _("Pilih anak Anda dari daftar.")
    if not form.child_words:
        errors["child_words"] = (
            _("Ceritakan dengan kata-katamu sendiri apa yang terjadi. Satu kalimat pun cukup.")
            if form.reporter_kind in ("child", "friend", "")
            else _("Tuliskan apa yang terjadi, sebisa mungkin dengan kata-kata anak itu sendiri.")
        )
    if form.reporter_kind in ADULT_REPORTER_KINDS:
        if form.child_knows not in YES_NO_UNSURE:
            errors["child_knows"] = _("Apakah anak tahu hal ini dilaporkan? Pilih salah satu.")
    if form.afraid_to_go_home and form.afraid_to_go_home not in YES_NO_UNSURE:
        errors["afraid_to_go_home"] = _("Pilih dari daftar yang ada.")
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
            _contact_number(form)
        except phone.PhoneError as exc:
            errors["contact_detail"] = str(exc)
    for name, limit in LIMITS.items():
        if len(getattr(form, name, "") or "") > limit:
            errors[name] = _("Terlalu panjang: paling banyak %(n)s huruf.", n=limit)
    if form.idempotency_key and not (8 <= len(form.idempotency_key) <= 64 and form.idempotency_key.replace("-", "").isalnum()):
        errors["form"] = _("Formulir ini rusak. Muat ulang halaman lalu coba lagi.")
    # Hidden fields have no place on the page to say it: their message goes on top of the form.
    hidden = {"idempotency_key", "website"} | ({"send_as"} if user is None else set())
    for name, message in form.unreadable.items():
        errors["form" if name in hidden else name] = message
    return errors


@dataclass(frozen=True)
class UrgencyRule:
    """One row of the urgency table: the first row whose test holds gives a new report its urgency."""

    urgency: Urgency
    reason: str  # the README's words for the row, so the table there and here can be compared line by line
    applies: Any  # Callable[[ReportForm], bool]


def _chose(*categories: Category) -> Any:
    return lambda form: bool(set(categories) & set(form.categories))


# The urgency a report starts with, before a counselor triages it. The same table is in the README ("Urgensi
# laporan") and each row is tested. Darurat means someone must act at once; tinggi that the child may be unsafe
# where they live or the law sets a short deadline (sexual violence: police within 3×24 h); the rest waits for
# the first follow-up within 3 working days.
URGENCY_RULES: tuple[UrgencyRule, ...] = (
    UrgencyRule(Urgency.EMERGENCY, "someone is in danger now", lambda form: form.danger_now == "yes"),
    UrgencyRule(Urgency.HIGH, "sexual violence", _chose(Category.SEXUAL)),
    UrgencyRule(Urgency.HIGH, "trafficking", _chose(Category.TRAFFICKING)),
    UrgencyRule(Urgency.HIGH, "exploitation", _chose(Category.EXPLOITATION)),
    UrgencyRule(Urgency.HIGH, "very sad, afraid, or wanting to hurt oneself", _chose(Category.MENTAL_HEALTH)),
    UrgencyRule(Urgency.HIGH, "afraid to go home", lambda form: form.afraid_to_go_home == "yes"),
    UrgencyRule(Urgency.HIGH, "violence or neglect at home",
                lambda form: form.happened_where == "home"
                and _chose(Category.PHYSICAL, Category.PSYCHOLOGICAL, Category.NEGLECT)(form)),
    UrgencyRule(Urgency.HIGH, "physical violence still going on",
                lambda form: form.happened_when == "ongoing" and _chose(Category.PHYSICAL)(form)),
    UrgencyRule(Urgency.MEDIUM, "anything else", lambda form: True),
)


def initial_urgency(form: ReportForm) -> Urgency:
    """The first row of URGENCY_RULES that holds (a filled honeypot is sorted last before this is asked)."""
    return next(rule.urgency for rule in URGENCY_RULES if rule.applies(form))


def submissions_over_limit(session: Session, ip: str) -> bool:
    return ratelimit.is_over(session, f"report:address:{ip}", SUBMISSIONS_PER_ADDRESS_PER_HOUR, timedelta(hours=1))


@dataclass
class Receipt:
    """What the person who sent a report is shown. A report sent again (`resent`) carries the code and PIN only
    when they may be shown again; otherwise the page says it was already sent, and nothing more."""

    report: Report
    code: str = ""
    pin: str = ""
    resent: bool = False
    limited: bool = False

    @property
    def formatted_code(self) -> str:
        return format_code(self.code)


def sent_before(session: Session, form: ReportForm) -> Report | None:
    """The report that already arrived with this form's idempotency key, if any."""
    if not form.idempotency_key:
        return None
    return session.execute(
        select(Report).where(Report.idempotency_key_hash == token_hash(form.idempotency_key))
    ).scalar_one_or_none()


def answer_resend(
    session: Session, settings: Settings, report: Report, *, browser_token: str | None, wants_receipt: bool,
    user: User | None, ip: str,
) -> Receipt:
    """A form that already arrived, sent again. Nothing new is made, so the submission limit does not apply, but
    resends are counted (the key must not be guessable at speed). The code and PIN come back only to the offline
    queue (`wants_receipt`) of the browser that sent the report, whose answer may have been lost, within a day;
    the receipt page itself is shown once, and Back then Reload gets "already sent"."""
    limited = ratelimit.hit(session, f"report:resend:{ip}", timedelta(hours=1)) > RESENDS_PER_ADDRESS_PER_HOUR
    receipt = Receipt(report, resent=True, limited=limited)
    if report.sealed_receipt and clock.now() - report.created_at > RECEIPT_RESEND_WINDOW:
        report.sealed_receipt = None
    same_browser = bool(browser_token and report.browser_token_hash
                        and hmac.compare_digest(report.browser_token_hash, token_hash(browser_token)))
    if wants_receipt and same_browser and not limited and report.sealed_receipt:
        opened = unseal_receipt(settings, browser_token or "", report.sealed_receipt)
        if opened is not None:
            receipt.code, receipt.pin = opened
    audit.record(session, "report.resent", actor_id=user.id if user else None,
                 actor_label=user.username if user else "anonymous", object_type="report", object_id=report.id,
                 ip=ip, receipt_given=bool(receipt.pin), limited=limited)
    return receipt


def submit_report(
    session: Session, settings: Settings, form: ReportForm, *, user: User | None, ip: str,
    browser_token: str | None = None, wants_receipt: bool = False,
) -> Receipt:
    """Create the report from a validated form, with its deadlines, chronology, audit entry and alerts.

    A form sent again with the same idempotency key is answered by `answer_resend`. `browser_token` names the
    browser that sent it; for an offline queue (`wants_receipt`) the receipt is kept sealed under that token, for
    the queue to get it again if this answer is lost."""
    earlier = sent_before(session, form)
    if earlier is not None:
        return answer_resend(session, settings, earlier, browser_token=browser_token,
                             wants_receipt=wants_receipt, user=user, ip=ip)
    owner = user if files_into_account(form, user) else None
    code, pin = make_code_and_pin()
    ratelimit.hit(session, f"report:address:{ip}", timedelta(hours=1))
    # Whole seconds, so that deadlines make exact keyset cursors in the inbox.
    now = clock.now().replace(microsecond=0)
    # A report that filled the honeypot is kept (never lose a report) but sorted last and marked for staff.
    urgency = Urgency.LOW if form.website else initial_urgency(form)
    district_id = _int_or_none(form.district_id) or district_of(session, form.village_id)
    school_id = _int_or_none(form.school_id)
    if school_id and not district_id:
        district_id = session.get(School, school_id).district_id
    consent_instead = form.parent_consent == "parent_may_harm" and form.reporter_kind in ADULT_REPORTER_KINDS
    report = Report(
        created_at=now,
        updated_at=now,
        code_hash=code_hash(code),
        pin_hash=auth.hash_password(pin),
        idempotency_key_hash=token_hash(form.idempotency_key) if form.idempotency_key else None,
        browser_token_hash=token_hash(browser_token) if browser_token else None,
        sealed_receipt=seal_receipt(settings, browser_token, code, pin) if browser_token and wants_receipt
        else None,
        submitted_by_id=owner.id if owner else None,
        reporter_kind=form.reporter_kind,
        child_id=_int_or_none(form.child_id) if owner else None,
        danger_now=form.danger_now == "yes",
        urgency=urgency,
        urgency_rank=urgency.rank,
        happened_when=form.happened_when,
        happened_where=form.happened_where,
        where_detail=form.where_detail,
        district_id=district_id,
        village_id=_int_or_none(form.village_id),
        school_id=school_id,
        child_age=_int_or_none(form.child_age),
        child_gender=form.child_gender,
        student_name=form.student_name if form.reporter_kind == "teacher" else "",
        student_class=form.student_class if form.reporter_kind == "teacher" else "",
        child_words=form.child_words,
        how_learned=form.how_learned if form.reporter_kind in ADULT_REPORTER_KINDS else "",
        others_involved=form.others_involved,
        child_knows=form.child_knows if form.reporter_kind in ADULT_REPORTER_KINDS else "",
        afraid_to_go_home=form.afraid_to_go_home,
        child_assent=form.child_assent,
        parent_consent=form.parent_consent,
        consent_by=form.consent_by if consent_instead else "",
        consent_reason=form.consent_reason if consent_instead else "",
        contact_method=form.contact_method,
        contact_detail=_contact_number(form).e164 if form.contact_method in PHONE_CONTACT_METHODS else "",
        contact_safe_time=form.contact_safe_time if form.contact_method in PHONE_CONTACT_METHODS else "",
        team_district_id=district_id,
        first_response_due_at=now if urgency == Urgency.EMERGENCY
        else add_working_days(session, now, FIRST_FOLLOW_UP_WORKING_DAYS),
        police_due_at=now + POLICE_DEADLINE if Category.SEXUAL in form.categories else None,
        suspected_spam=bool(form.website),
    )
    report.next_due_at = next_deadline(report)
    # A phone's page and its service worker may replay the same offline form at the same moment: the database
    # keeps the first (the idempotency key is unique) and the other gets that report's receipt, not an error.
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        earlier = sent_before(session, form)
        if earlier is None:
            raise
        return answer_resend(session, settings, earlier, browser_token=browser_token,
                             wants_receipt=wants_receipt, user=user, ip=ip)
    session.add_all(ReportCategory(report_id=report.id, category=c) for c in dict.fromkeys(form.categories))
    # Sent without the account: neither the chronology nor the audit log ties the report to it.
    session.add(CaseEvent(report_id=report.id, at=now, actor_id=owner.id if owner else None, kind="submitted",
                          to_status=Status.SUBMITTED))
    audit.record(session, "report.submitted", actor_id=owner.id if owner else None,
                 actor_label=owner.username if owner else "anonymous", object_type="report", object_id=report.id,
                 ip=ip)
    if urgency == Urgency.EMERGENCY and not report.suspected_spam:
        outbox.enqueue(session, "emergency_report", url=f"/kasus/{report.id}", topic=f"report-{report.id}-urgent",
                       user_ids=on_duty_staff(session, report), urgency="high", object_type="report",
                       object_id=report.id)
    return Receipt(report, code, pin)


def on_duty_staff(session: Session, report: Report) -> list[int]:
    """Who hears of an emergency at once: the counselors of the report's district team (every counselor when the
    district is unknown) and the supervisors. A duty roster can narrow this once availability exists."""
    counselors = select(User.id).where(User.active, User.role == Role.COUNSELOR)
    if report.team_district_id is not None:
        counselors = counselors.where(User.district_id == report.team_district_id)
    supervisors = select(User.id).where(User.active, User.role == Role.SUPERVISOR)
    return list(session.execute(counselors).scalars()) + list(session.execute(supervisors).scalars())


# --- deadlines --------------------------------------------------------------------------------------------


def next_deadline(report: Report) -> datetime:
    """The nearest deadline not met yet, for ordering the inbox; FAR_FUTURE when none is pending."""
    if report.status not in OPEN_STATUSES:
        return FAR_FUTURE
    pending = []
    if report.first_response_at is None:
        pending.append(report.first_response_due_at)
    if report.police_due_at is not None and report.police_reported_at is None:
        pending.append(report.police_due_at)
    return min(pending) if pending else FAR_FUTURE


def past_deadline_count(session: Session, now: datetime | None = None) -> int:
    """Open cases with a deadline not met and already passed (the service's health page and metrics): one count
    off the inbox's index, since `next_deadline` keeps the nearest unmet deadline on every open case."""
    now = now or clock.now()
    return session.execute(
        select(func.count()).select_from(Report).where(Report.is_open.is_(True), Report.next_due_at < now)
    ).scalar_one()


@dataclass(frozen=True)
class Deadline:
    label: str
    due_at: datetime
    overdue: bool
    # Years the working days were counted over with no public holidays entered: the date may be too early.
    years_without_holidays: tuple[int, ...] = ()


def deadlines(report: Report, now: datetime | None = None, *, session: Session | None = None) -> list[Deadline]:
    """The deadlines not met yet. Given a session, a working-day deadline also says over which years it was
    counted without holidays."""
    now = now or clock.now()
    items = []
    if report.status in OPEN_STATUSES and report.first_response_at is None:
        label = _("Tanggapi segera") if report.urgency == Urgency.EMERGENCY else _("Tindak lanjut pertama")
        unsure = () if session is None or report.urgency == Urgency.EMERGENCY else tuple(
            years_without_holidays(session, report.created_at, report.first_response_due_at))
        items.append(Deadline(label, report.first_response_due_at, now > report.first_response_due_at, unsure))
    if report.status in OPEN_STATUSES and report.police_due_at is not None and report.police_reported_at is None:
        items.append(Deadline(_("Teruskan ke polisi (3×24 jam)"), report.police_due_at, now > report.police_due_at))
    return items


# --- who may see a case -----------------------------------------------------------------------------------


def staff_relation(user: User | None, report: Report) -> auth.Relation:
    """Counselors see the cases assigned to them and their district team's; a report with no district yet is
    every counselor's to triage, so that nothing waits unseen. Supervisors see all."""
    if user is None or user.role not in (Role.COUNSELOR, Role.SUPERVISOR):
        return auth.Relation.STRANGER
    if report.team_district_id is None and report.assigned_to_id is None and user.role == Role.COUNSELOR:
        return auth.Relation.COLLEAGUE if user.active else auth.Relation.STRANGER
    return auth.relation(user, owner_ids={report.assigned_to_id}, team_district_id=report.team_district_id)


def can_handle(user: User | None, report: Report) -> bool:
    return staff_relation(user, report) != auth.Relation.STRANGER


def is_reporter(user: User | None, report: Report) -> bool:
    return user is not None and user.active and report.submitted_by_id == user.id


def record_view(session: Session, report: Report, *, user: User | None, ip: str, as_: str) -> None:
    audit.record(session, f"report.viewed.{as_}", actor_id=user.id if user else None,
                 actor_label=user.username if user else "code-holder", object_type="report", object_id=report.id,
                 ip=ip)


# --- follow-up with code and PIN --------------------------------------------------------------------------


def open_with_code(
    session: Session, settings: Settings, *, code: str, pin: str, ip: str, device_cookie: str | None = None,
    now: datetime | None = None,
) -> tuple[Report | None, str | None, bool, str | None]:
    """(report, error, limited, the browser's device cookie once it got in). A wrong code and a wrong PIN get
    the same words, and both count; an attempt inside the wait is answered without checking the PIN and does
    not count. The wait belongs to the guesser (this address, or this phone if it opened the report before),
    so whoever knows a child's code can never keep the child out (ratelimit.Guesses)."""
    now = now or clock.now()
    normal = normalise_code(code)
    secret = f"code:{code_hash(normal)}"
    device = ratelimit.known_device(device_cookie, secret=secret, secret_key=settings.secret_key)
    who = ratelimit.Guesser(secret=secret, address_key=f"code:address:{ip}", ip=ip, device=device)
    if wait := ratelimit.guess_wait(session, who, now):
        # A flood of attempts inside the waits is one audit entry per code and client each quarter hour.
        if ratelimit.first_refusal_of(session, who, LIMITED_AUDIT_WINDOW, now):
            audit.record(session, "report.code_limited", ip=ip)
        session.commit()
        message = _("Terlalu banyak percobaan. Demi keamanan, coba lagi dalam %(seconds)s detik.", seconds=wait)
        return None, message, True, None
    report = session.execute(select(Report).where(Report.code_hash == code_hash(normal))).scalar_one_or_none()
    if not auth.verify_password(report.pin_hash if report else None, pin.strip()) or report is None:
        ratelimit.guess_failed(session, who, CODE_GUESSES, now)
        telemetry.sign_in_failed("report_code")
        audit.record(session, "report.code_failed", ip=ip)
        session.commit()
        return None, _("Kode laporan atau PIN tidak cocok. Periksa lagi lalu coba sekali lagi."), False, None
    ratelimit.guess_succeeded(session, who)
    return report, None, False, ratelimit.remember_device(device_cookie, secret=secret,
                                                          secret_key=settings.secret_key)


def case_report(session: Session, visitor: Visitor) -> Report | None:
    """The report whose code and PIN this visitor's browser proved (server/accounts/visitor.py), if any."""
    return session.get(Report, visitor.case_report_id) if visitor.case_report_id is not None else None


# --- handling a case --------------------------------------------------------------------------------------


def _touch(report: Report, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != report.version:
        raise StaleCase(_("Kasus ini baru saja diubah orang lain. Lihat perubahan terbaru, lalu coba lagi."))
    report.version += 1
    report.updated_at = clock.now()


def _event(session: Session, report: Report, actor: User | None, kind: str, **fields: Any) -> CaseEvent:
    event = CaseEvent(report_id=report.id, actor_id=actor.id if actor else None, kind=kind, **fields)
    session.add(event)
    return event


def _first_response(report: Report) -> None:
    if report.first_response_at is None:
        report.first_response_at = clock.now()


def _audit(session: Session, action: str, report: Report, actor: User, ip: str, **detail: Any) -> None:
    audit.record(session, action, actor_id=actor.id, actor_label=actor.username, object_type="report",
                 object_id=report.id, ip=ip, **detail)


def triage(
    session: Session, report: Report, actor: User, *, urgency: str, categories: list[str], district_id: int | None,
    version: int | None, ip: str,
) -> None:
    if urgency not in set(Urgency):
        raise CaseError(_("Pilih tingkat urgensi."))
    if not categories or any(c not in set(Category) for c in categories):
        raise CaseError(_("Pilih setidaknya satu kategori."))
    if district_id is not None and session.get(District, district_id) is None:
        raise CaseError(_("Pilih kecamatan dari daftar."))
    _touch(report, version)
    before = report.status
    report.urgency, report.urgency_rank = urgency, Urgency(urgency).rank
    report.district_id = district_id
    if report.assigned_to_id is None:
        report.team_district_id = district_id
    # Through the session, row by row, so that the statistics know which month's reports changed
    # (server/reports/freshness.py).
    kept = session.execute(select(ReportCategory).where(ReportCategory.report_id == report.id)).scalars().all()
    for link in kept:
        if link.category not in categories:
            session.delete(link)
    had = {link.category for link in kept}
    session.add_all(ReportCategory(report_id=report.id, category=c) for c in dict.fromkeys(categories) if c not in had)
    if Category.SEXUAL in categories and report.police_due_at is None:
        report.police_due_at = report.created_at + POLICE_DEADLINE
    if report.status in (Status.SUBMITTED, Status.REOPENED):
        report.status = Status.TRIAGED
    _first_response(report)
    report.next_due_at = next_deadline(report)
    _event(session, report, actor, "triaged", from_status=before, to_status=report.status,
           body=", ".join([urgency, *categories]))
    _audit(session, "report.triaged", report, actor, ip, urgency=urgency, categories=categories)


def assignable_counselors(session: Session) -> list[User]:
    return list(session.execute(
        select(User).where(User.active, User.role == Role.COUNSELOR).order_by(User.display_name)
    ).scalars())


def assign(session: Session, report: Report, actor: User, *, counselor_id: int, version: int | None, ip: str) -> None:
    """Supervisors assign to any counselor; a counselor may take a case they can see for themselves."""
    counselor = session.get(User, counselor_id)
    if counselor is None or not counselor.active or counselor.role != Role.COUNSELOR:
        raise CaseError(_("Pilih konselor yang aktif."))
    if actor.role != Role.SUPERVISOR and counselor.id != actor.id:
        raise CaseError(_("Hanya supervisor yang dapat menugaskan kasus kepada konselor lain."))
    if report.status not in OPEN_STATUSES:
        raise CaseError(_("Kasus yang sudah selesai harus dibuka kembali dulu."))
    _touch(report, version)
    before = report.status
    report.assigned_to_id = counselor.id
    report.team_district_id = counselor.district_id
    if report.status in (Status.SUBMITTED, Status.TRIAGED, Status.REOPENED):
        report.status = Status.ASSIGNED
    _first_response(report)
    report.next_due_at = next_deadline(report)
    _event(session, report, actor, "assigned", from_status=before, to_status=report.status,
           body=counselor.display_name)
    _audit(session, "report.assigned", report, actor, ip, counselor_id=counselor.id)
    if counselor.id != actor.id:
        outbox.enqueue(session, "case_assigned", url=f"/kasus/{report.id}", topic=f"report-{report.id}-assigned",
                       user_ids=[counselor.id], urgency="high" if report.urgency == Urgency.EMERGENCY else "normal",
                       object_type="report", object_id=report.id)


def allowed_transitions(report: Report) -> list[Status]:
    return sorted(TRANSITIONS.get(Status(report.status), frozenset()), key=list(Status).index)


def change_status(
    session: Session, report: Report, actor: User, *, to: str, reason: str = "", forwarded_to: str = "",
    duplicate_of: int | None = None, version: int | None, ip: str, check_in_plan: dict[str, Any] | None = None,
) -> None:
    """Move the case to another state. Closing is announced to the domains registered in `case_hooks` (aftercare
    starts the check-in plan chosen on the closing form, `check_in_plan`, its fields; the default plan when absent),
    after each has checked the form; opening again is announced too (aftercare stops what is left of the plan)."""
    try:
        target = Status(to)
    except ValueError as exc:
        raise CaseError(_("Pilih status dari daftar.")) from exc
    if target not in TRANSITIONS.get(Status(report.status), frozenset()):
        raise CaseError(_("Status ini tidak bisa dipilih dari status sekarang."))
    reason = reason.strip()
    if target in NEEDS_REASON and not reason:
        raise CaseError(_("Tulis alasannya: langkah ini perlu dicatat."))
    if len(reason) > LIMITS["reason"]:
        raise CaseError(_("Alasan terlalu panjang: paling banyak %(n)s huruf.", n=LIMITS["reason"]))
    if target == Status.OUT_OF_SCOPE and not forwarded_to.strip():
        raise CaseError(_("Tulis ke lembaga mana laporan ini diteruskan."))
    if target == Status.DUPLICATE:
        original = session.get(Report, duplicate_of or 0)
        if original is None or original.id == report.id:
            raise CaseError(_("Tulis nomor kasus asli yang sama dengan laporan ini."))
    if target in (Status.ASSIGNED, Status.IN_PROGRESS, Status.REFERRED, Status.MONITORING) and report.assigned_to_id is None:
        raise CaseError(_("Tugaskan kasus ini kepada konselor dulu."))
    checked = case_hooks.check_close(session, report, check_in_plan) if target == Status.CLOSED else None
    _touch(report, version)
    before = report.status
    report.status = target
    report.is_open = target in OPEN_STATUSES
    if target == Status.OUT_OF_SCOPE:
        report.forwarded_to = forwarded_to.strip()[:200]
    if target == Status.DUPLICATE:
        report.duplicate_of_id = duplicate_of
    if target in NEEDS_REASON:
        report.closed_reason = reason
    _first_response(report)
    report.next_due_at = next_deadline(report)
    _event(session, report, actor, "status", from_status=before, to_status=target, body=reason)
    _audit(session, "report.status_changed", report, actor, ip, before=before, after=target)
    if checked is not None:
        case_hooks.announce_closed(session, report, actor, checked, ip=ip)
    elif target == Status.REOPENED:
        case_hooks.announce_reopened(session, report)
    notify_reporter(session, report, "case_status")


def add_note(session: Session, report: Report, actor: User, *, body: str, ip: str) -> None:
    body = body.strip()
    if not body:
        raise CaseError(_("Catatan masih kosong."))
    if len(body) > LIMITS["note"]:
        raise CaseError(_("Catatan terlalu panjang: paling banyak %(n)s huruf.", n=LIMITS["note"]))
    report.updated_at = clock.now()
    _event(session, report, actor, "note", body=body)
    _audit(session, "report.note_added", report, actor, ip)


def mark_police_reported(session: Session, report: Report, actor: User, *, version: int | None, ip: str) -> None:
    if report.police_due_at is None:
        raise CaseError(_("Kasus ini tidak memerlukan laporan ke polisi."))
    if report.police_reported_at is not None:
        # The first time is the evidence that the 3×24-hour deadline was met: it is never overwritten.
        raise CaseError(_("Sudah dicatat diteruskan ke polisi."))
    _touch(report, version)
    report.police_reported_at = clock.now()
    report.next_due_at = next_deadline(report)
    _event(session, report, actor, "police", body="")
    _audit(session, "report.police_reported", report, actor, ip)


def add_referral(
    session: Session, report: Report, actor: User, *, agency_kind: str, agency_name: str, note: str, ip: str
) -> Referral:
    if agency_kind not in AGENCY_KINDS:
        raise CaseError(_("Pilih jenis lembaga rujukan."))
    agency_name = agency_name.strip()
    if not agency_name:
        raise CaseError(_("Tulis nama lembaga rujukan."))
    if len(agency_name) > LIMITS["agency_name"] or len(note) > 1000:
        raise CaseError(_("Isian terlalu panjang."))
    referral = Referral(report_id=report.id, created_by_id=actor.id, agency_kind=agency_kind,
                        agency_name=agency_name, note=note.strip())
    session.add(referral)
    session.flush()
    if agency_kind == "police" and report.police_due_at is not None and report.police_reported_at is None:
        report.police_reported_at = clock.now()
        report.next_due_at = next_deadline(report)
    report.updated_at = clock.now()
    _event(session, report, actor, "referral", body=f"{agency_kind}: {agency_name}")
    _audit(session, "report.referral_added", report, actor, ip, referral_id=referral.id, agency_kind=agency_kind)
    return referral


def update_referral(session: Session, report: Report, actor: User, *, referral_id: int, status: str, ip: str) -> None:
    referral = session.get(Referral, referral_id)
    if referral is None or referral.report_id != report.id:
        raise CaseError(_("Rujukan tidak ditemukan."))
    if status not in REFERRAL_STATUSES:
        raise CaseError(_("Pilih status rujukan."))
    before = referral.status
    referral.status, referral.updated_at = status, clock.now()
    report.updated_at = clock.now()
    _event(session, report, actor, "referral", body=f"{referral.agency_name}: {before} → {status}")
    _audit(session, "report.referral_updated", report, actor, ip, referral_id=referral.id, status=status)


# --- what SIMFONI-PPA counts -----------------------------------------------------------------------------


def _day(value: str, *, not_after: date) -> tuple[date | None, str | None]:
    """(day, error) for a YYYY-MM-DD field; an empty field is no day and no error."""
    if not value.strip():
        return None, None
    day = day_within_range(value.strip())
    if day is None:
        return None, _("Tulis tanggal seperti 2026-11-30.")
    if day > not_after:
        return None, _("Tanggal ini belum lewat. Tulis tanggal hari ini atau sebelumnya.")
    return day, None


def update_simfoni(session: Session, report: Report, actor: User, *, incident_on: str, in_household: bool,
                   education: str, disability: str, disability_kind: str, ip: str) -> None:
    errors: dict[str, str] = {}
    day, error = _day(incident_on, not_after=clock.today_wita())
    if error:
        errors["incident_on"] = error
    if education and education not in simfoni.EDUCATION_LEVELS:
        errors["victim_education"] = _("Pilih jenjang pendidikan dari daftar.")
    if disability and disability not in simfoni.DISABILITY:
        errors["victim_disability"] = _("Pilih ya atau tidak.")
    disability_kind = disability_kind.strip()
    if disability == "ya" and not disability_kind:
        errors["victim_disability_kind"] = _("Tulis jenis disabilitasnya.")
    elif len(disability_kind) > 120:
        errors["victim_disability_kind"] = _("Paling banyak %(n)s karakter.", n=120)
    if errors:
        raise FieldErrors(errors)
    report.incident_on, report.in_household = day, in_household
    report.victim_education, report.victim_disability = education, disability
    report.victim_disability_kind = disability_kind if disability == "ya" else ""
    report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Data korban dan kejadian diperbarui."))
    _audit(session, "report.simfoni_updated", report, actor, ip)


def add_perpetrator(session: Session, report: Report, actor: User, *, sex: str, age_band: str, relationship: str,
                    ip: str) -> Perpetrator:
    errors: dict[str, str] = {}
    if sex not in simfoni.SEXES:
        errors["perpetrator_sex"] = _("Pilih jenis kelamin pelaku.")
    if age_band not in simfoni.PERPETRATOR_AGE_BANDS:
        errors["perpetrator_age_band"] = _("Pilih kelompok umur pelaku.")
    if relationship not in simfoni.RELATIONSHIPS:
        errors["perpetrator_relationship"] = _("Pilih hubungan pelaku dengan anak.")
    if errors:
        raise FieldErrors(errors)
    perpetrator = Perpetrator(report_id=report.id, created_by_id=actor.id, sex=sex, age_band=age_band,
                              relationship=relationship)
    session.add(perpetrator)
    session.flush()
    report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Data pelaku ditambahkan."))
    _audit(session, "report.perpetrator_added", report, actor, ip, perpetrator_id=perpetrator.id)
    return perpetrator


def add_service(session: Session, report: Report, actor: User, *, kind: str, given_on: str, given_by: str,
                note: str, ip: str) -> CaseService:
    errors: dict[str, str] = {}
    if kind not in simfoni.SERVICE_KINDS:
        errors["service_kind"] = _("Pilih jenis layanan.")
    day, error = _day(given_on, not_after=clock.today_wita())
    if error or day is None:
        errors["service_given_on"] = error or _("Tulis tanggal layanan diberikan.")
    given_by, note = given_by.strip(), note.strip()
    if len(given_by) > 120:
        errors["service_given_by"] = _("Paling banyak %(n)s karakter.", n=120)
    if len(note) > 1000:
        errors["service_note"] = _("Paling banyak %(n)s karakter.", n=1000)
    if errors:
        raise FieldErrors(errors)
    service = CaseService(report_id=report.id, created_by_id=actor.id, kind=kind, given_on=day, given_by=given_by,
                          note=note)
    session.add(service)
    session.flush()
    report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Layanan dicatat."))
    _audit(session, "report.service_added", report, actor, ip, service_id=service.id, kind=kind)
    return service


def remove_perpetrator(session: Session, report: Report, actor: User, *, perpetrator_id: int, ip: str) -> None:
    """For a line entered by mistake: it is gone from the counts, and the chronology and audit log keep that it was
    there and who removed it."""
    perpetrator = session.get(Perpetrator, perpetrator_id)
    if perpetrator is None or perpetrator.report_id != report.id:
        raise CaseError(_("Data pelaku tidak ditemukan."))
    session.delete(perpetrator)
    report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Data pelaku dihapus."))
    _audit(session, "report.perpetrator_removed", report, actor, ip, perpetrator_id=perpetrator_id,
           relationship=perpetrator.relationship)


def remove_service(session: Session, report: Report, actor: User, *, service_id: int, ip: str) -> None:
    given = session.get(CaseService, service_id)
    if given is None or given.report_id != report.id:
        raise CaseError(_("Layanan tidak ditemukan."))
    session.delete(given)
    report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Catatan layanan dihapus."))
    _audit(session, "report.service_removed", report, actor, ip, service_id=service_id, kind=given.kind)


def mark_entered_in_simfoni(session: Session, report: Report, actor: User, *, ip: str) -> None:
    if report.entered_in_simfoni_at is not None:
        raise CaseError(_("Kasus ini sudah ditandai sudah diinput ke SIMFONI."))
    report.entered_in_simfoni_at = report.updated_at = clock.now()
    _event(session, report, actor, "simfoni", body=_("Ditandai sudah diinput ke SIMFONI-PPA."))
    _audit(session, "report.simfoni_entered", report, actor, ip)


@dataclass(frozen=True)
class SimfoniSheet:
    """What the SIMFONI-PPA input form asks, in its order: the victim, the incident, perpetrators, services."""

    categories: list[str]
    forms: list[str]
    age_band: str
    district: District | None
    school: School | None
    perpetrators: list[Perpetrator]
    services: list[CaseService]
    referrals: list[Referral]
    # The sheet leaves the case (printed, typed into a national system): free text on it is masked; the counselor
    # reads the original on the case page.
    child_words: str = ""
    where_detail: str = ""
    village: Village | None = None


def simfoni_sheet(session: Session, report: Report) -> SimfoniSheet:
    categories = categories_of(session, report.id)
    forms = [form for form in simfoni.FORMS if form in {simfoni.CATEGORY_TO_FORM[c] for c in categories}]
    return SimfoniSheet(
        categories=categories, forms=forms, age_band=simfoni.age_band(report.child_age),
        district=session.get(District, report.district_id) if report.district_id else None,
        school=session.get(School, report.school_id) if report.school_id else None,
        perpetrators=perpetrators_of(session, report.id), services=services_of(session, report.id),
        referrals=referrals_of(session, report.id),
        child_words=masking.mask(report.child_words), where_detail=masking.mask(report.where_detail),
        village=chosen_village(session, str(report.village_id or "")),
    )


def perpetrators_of(session: Session, report_id: int) -> list[Perpetrator]:
    return list(session.execute(
        select(Perpetrator).where(Perpetrator.report_id == report_id).order_by(Perpetrator.id)).scalars())


def services_of(session: Session, report_id: int) -> list[CaseService]:
    return list(session.execute(
        select(CaseService).where(CaseService.report_id == report_id).order_by(CaseService.given_on, CaseService.id)
    ).scalars())


# --- messages between counselor and reporter --------------------------------------------------------------


def _check_message(session: Session, report: Report, body: str, side: str) -> str:
    """Each side has its own hourly limit, so a flood from one never stops the other from answering."""
    body = body.strip()
    if not body:
        raise CaseError(_("Pesan masih kosong."))
    if has_control_characters(body, multiline=True):
        raise CaseError(unreadable_message())
    if len(body) > LIMITS["message"]:
        raise CaseError(_("Pesan terlalu panjang: paling banyak %(n)s huruf.", n=LIMITS["message"]))
    if ratelimit.hit(session, f"message:report:{report.id}:{side}", timedelta(hours=1)) > MESSAGES_PER_CASE_PER_HOUR:
        raise CaseError(_("Terlalu banyak pesan dalam satu jam. Coba lagi nanti."))
    return body


def notify_reporter(session: Session, report: Report, kind: str) -> None:
    """The reporter hears that something changed (never what): by account, or through the case code."""
    if report.submitted_by_id is not None:
        outbox.enqueue(session, kind, url=f"/laporan-saya/{report.id}", topic=f"report-{report.id}-reporter",
                       user_ids=[report.submitted_by_id], object_type="report", object_id=report.id)
    else:
        outbox.enqueue(session, kind, url="/cek/laporan", topic=f"report-{report.id}-reporter", report_id=report.id,
                       object_type="report", object_id=report.id)


def message_from_staff(session: Session, report: Report, actor: User, *, body: str, ip: str) -> None:
    body = _check_message(session, report, body, "staff")
    report.updated_at = clock.now()
    _first_response(report)
    report.next_due_at = next_deadline(report)
    _event(session, report, actor, "message", body=body, visible_to_reporter=True)
    _audit(session, "report.message_sent", report, actor, ip)
    notify_reporter(session, report, "case_message")


def message_from_reporter(session: Session, report: Report, user: User | None, *, body: str, ip: str) -> None:
    body = _check_message(session, report, body, "reporter")
    report.updated_at = clock.now()
    _event(session, report, user, "message", body=body, visible_to_reporter=True, from_reporter=True)
    audit.record(session, "report.message_received", actor_id=user.id if user else None,
                 actor_label=user.username if user else "code-holder", object_type="report", object_id=report.id,
                 ip=ip)
    recipients = [report.assigned_to_id] if report.assigned_to_id else on_duty_staff(session, report)
    outbox.enqueue(session, "case_message", url=f"/kasus/{report.id}", topic=f"report-{report.id}-staff",
                   user_ids=recipients, object_type="report", object_id=report.id)


# --- what each side sees ----------------------------------------------------------------------------------


def categories_of(session: Session, report_id: int) -> list[str]:
    return list(session.execute(
        select(ReportCategory.category).where(ReportCategory.report_id == report_id).order_by(ReportCategory.category)
    ).scalars())


def reporter_timeline(session: Session, report: Report) -> list[CaseEvent]:
    """Messages both ways and nothing else: never notes, referrals or who handles the case."""
    return list(session.execute(
        select(CaseEvent).where(CaseEvent.report_id == report.id, CaseEvent.visible_to_reporter)
        .order_by(CaseEvent.id)
    ).scalars())


@dataclass(frozen=True)
class ChronologyItem:
    at: datetime
    kind: str
    actor: str
    body: str = ""
    from_status: str = ""
    to_status: str = ""
    from_reporter: bool = False


def chronology(session: Session, report: Report) -> list[ChronologyItem]:
    """Everything that happened to the case, views included (from the audit log), oldest first."""
    names = dict(session.execute(select(User.id, User.display_name)).all())
    items = [
        ChronologyItem(e.at, e.kind, _("Pelapor") if e.from_reporter or (e.kind == "submitted")
                       else names.get(e.actor_id, _("Sistem")), e.body, e.from_status, e.to_status, e.from_reporter)
        for e in session.execute(select(CaseEvent).where(CaseEvent.report_id == report.id).order_by(CaseEvent.id)).scalars()
    ]
    views = session.execute(
        select(AuditEntry).where(AuditEntry.object_type == "report", AuditEntry.object_id == str(report.id),
                                 AuditEntry.action.like("report.viewed.%")).order_by(AuditEntry.id)
    ).scalars()
    items += [ChronologyItem(v.at, "viewed", names.get(v.actor_id, v.actor_label) if v.actor_id else _("Pelapor"))
              for v in views]
    return sorted(items, key=lambda item: item.at)


def referrals_of(session: Session, report_id: int) -> list[Referral]:
    return list(session.execute(select(Referral).where(Referral.report_id == report_id).order_by(Referral.id)).scalars())


def reports_by(session: Session, user: User) -> list[Report]:
    return list(session.execute(
        select(Report).where(Report.submitted_by_id == user.id).order_by(Report.id.desc()).limit(100)
    ).scalars())


@dataclass(frozen=True)
class ReporterSummary:
    """What a reporter is shown of their own report: what they reported and about whom (the student a teacher
    named, or the parent's child), never what staff found or decided. Only on pages behind sign-in, never in a
    page title or a push."""

    report: Report
    categories: list[str]
    about_name: str = ""
    about_class: str = ""


def reporter_summaries(session: Session, reports: list[Report]) -> list[ReporterSummary]:
    ids = [r.id for r in reports]
    categories: dict[int, list[str]] = {i: [] for i in ids}
    for report_id, category in session.execute(
        select(ReportCategory.report_id, ReportCategory.category).where(ReportCategory.report_id.in_(ids))
        .order_by(ReportCategory.category)
    ).all():
        categories[report_id].append(category)
    child_ids = {r.child_id for r in reports if r.child_id}
    nicknames = dict(session.execute(select(Child.id, Child.nickname).where(Child.id.in_(child_ids))).all()) \
        if child_ids else {}
    return [
        ReporterSummary(report, categories[report.id],
                        about_name=report.student_name or nicknames.get(report.child_id or 0, ""),
                        about_class=report.student_class)
        for report in reports
    ]


# --- the inbox --------------------------------------------------------------------------------------------

INBOX_PAGE_SIZE = 25


@dataclass
class InboxFilter:
    status: str = "open"
    category: str = ""
    district_id: int | None = None
    school_id: int | None = None
    mine: bool = False
    after: str = ""  # keyset cursor: "rank.due_epoch.id"


@dataclass
class InboxPage:
    reports: list[Report]
    next_cursor: str | None
    categories: dict[int, list[str]]


def _cursor(report: Report) -> str:
    return f"{report.urgency_rank}.{int(report.next_due_at.timestamp())}.{report.id}"


class CursorOutOfRange(ValueError):
    """A cursor of numbers no inbox page can have (the route answers "not found")."""


def _parse_cursor(after: str) -> tuple[int, datetime, int]:
    """(rank, due, last id) of a cursor; one not made by us starts from the top, one out of range is refused."""
    try:
        rank, due_epoch, last_id = (int(part) for part in after.split("."))
    except ValueError:
        return -1, FAR_FUTURE, 0
    if not (-MAX_ID <= rank <= MAX_ID and 0 <= due_epoch <= int(FAR_FUTURE.timestamp()) and 0 <= last_id <= MAX_ID):
        raise CursorOutOfRange(after)
    return rank, datetime.fromtimestamp(due_epoch, UTC), last_id


def inbox(session: Session, user: User, filters: InboxFilter) -> InboxPage:
    """Open cases first by urgency, then by the nearest deadline, then oldest; keyset-paginated so the page costs
    the same with 100 or 100,000 reports. Only cases the person may handle are listed."""
    due = Report.next_due_at
    query = select(Report)
    if user.role == Role.COUNSELOR:
        query = query.where(or_(
            Report.assigned_to_id == user.id,
            Report.team_district_id == user.district_id,
            and_(Report.team_district_id.is_(None), Report.assigned_to_id.is_(None)),
        ))
    if filters.status == "open":
        query = query.where(Report.is_open)
    elif filters.status == "finished":
        query = query.where(~Report.is_open)
    elif filters.status in set(Status):
        query = query.where(Report.status == filters.status)
    if filters.category in set(Category):
        query = query.where(Report.id.in_(select(ReportCategory.report_id).where(ReportCategory.category == filters.category)))
    if filters.district_id:
        query = query.where(Report.district_id == filters.district_id)
    if filters.school_id:
        query = query.where(Report.school_id == filters.school_id)
    if filters.mine:
        query = query.where(Report.assigned_to_id == user.id)
    if filters.after:
        rank, last_due, last_id = _parse_cursor(filters.after)
        query = query.where(or_(
            Report.urgency_rank > rank,
            and_(Report.urgency_rank == rank, due > last_due),
            and_(Report.urgency_rank == rank, due == last_due, Report.id > last_id),
        ))
    rows = list(session.execute(
        query.order_by(Report.urgency_rank, due, Report.id).limit(INBOX_PAGE_SIZE + 1)
    ).scalars())
    more = len(rows) > INBOX_PAGE_SIZE
    rows = rows[:INBOX_PAGE_SIZE]
    categories: dict[int, list[str]] = {r.id: [] for r in rows}
    for report_id, category in session.execute(
        select(ReportCategory.report_id, ReportCategory.category).where(ReportCategory.report_id.in_(list(categories)))
    ).all():
        categories[report_id].append(category)
    return InboxPage(rows, _cursor(rows[-1]) if more else None, categories)


