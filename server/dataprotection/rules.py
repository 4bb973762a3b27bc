"""The retention schedule: one rule per kind of data (UU PDP Art. 43-44: data is destroyed when its period ends).

A rule with days has a documented default that a supervisor may change within its limits (kept as a service
setting `retensi.<key>`); the others say how long and why, and what deletes it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from server.i18n import lazy_gettext as _l
from server.models import ServiceSetting

SETTING_PREFIX = "retensi."


@dataclass(frozen=True)
class Rule:
    key: str
    label: object
    period: object  # how long, in words
    default_days: int | None = None
    min_days: int | None = None
    max_days: int | None = None

    @property
    def adjustable(self) -> bool:
        return self.default_days is not None

    def allows(self, days: int) -> bool:
        """Whether a period a supervisor chose is within this rule's limits (none for a fixed rule)."""
        return self.min_days is not None and self.max_days is not None and self.min_days <= days <= self.max_days


RULES: dict[str, Rule] = {rule.key: rule for rule in (
    Rule("sessions", _l("Sesi dan tautan sekali pakai"),
         _l("Dihapus saat kedaluwarsa (menit sampai jam), oleh worker")),
    Rule("rate_limits", _l("Penghitung percobaan"),
         _l("Dihapus sehari setelah percobaan terakhir, oleh worker")),
    Rule("notification_jobs", _l("Pemberitahuan yang sudah selesai"),
         _l("Dihapus 90 hari setelah dibuat, oleh worker")),
    Rule("push_devices", _l("Perangkat push yang tidak dipakai lagi"),
         _l("Dihapus setelah tidak terlihat selama jumlah hari ini"), 180, 30, 730),
    Rule("contact_numbers", _l("Nomor kontak pelapor dan nomor telepon janji temu"),
         _l("Dikosongkan jumlah hari ini setelah kasus ditutup atau janji temu lewat"), 90, 14, 365),
    Rule("case", _l("Kasus yang sudah ditutup"),
         _l("Dipseudonimkan setelah masa arsip ini (nama, kontak dan tempat dihapus; kata-kata disamarkan); "
            "data perlindungan anak tidak dimusnahkan seluruhnya"), 1825, 365, 3650),
    Rule("account", _l("Akun"),
         _l("Selama akun dipakai; dihapus atas permintaan pemiliknya (kecuali yang wajib disimpan)")),
    Rule("audit", _l("Catatan audit"),
         _l("Disimpan tanpa batas dan tidak bisa diubah: bukti pertanggungjawaban")),
    Rule("compliance", _l("Permintaan, berita acara pemusnahan, insiden"),
         _l("Disimpan sebagai bukti kepatuhan UU PDP")),
    Rule("config", _l("Bukan data pribadi"), _l("Selama dibutuhkan layanan")),
)}


def days(session: Session, key: str) -> int:
    """The period of an adjustable rule: the supervisor's setting when it is within the limits, else the default."""
    rule = RULES[key]
    if rule.default_days is None:
        raise KeyError(f"{key} is not an adjustable retention rule")
    stored = session.execute(select(col(ServiceSetting.value))
                             .where(col(ServiceSetting.key) == SETTING_PREFIX + key)).scalar()
    try:
        value = int(stored) if stored is not None else rule.default_days
    except ValueError:
        return rule.default_days
    return value if rule.allows(value) else rule.default_days


def all_days(session: Session) -> dict[str, int]:
    return {key: days(session, key) for key, rule in RULES.items() if rule.adjustable}
