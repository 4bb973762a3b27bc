"""The kelurahan/desa a report may name after its kecamatan (optional: a child reporting may not know it)."""

from __future__ import annotations

from sqlmodel import Session

from server.accounts.models import Village
from server.i18n import gettext as _


def chosen_village(session: Session, village_id: str) -> Village | None:
    try:
        return session.get(Village, int(village_id)) if village_id else None
    except ValueError:
        return None


def validate_village(session: Session, district_id: str, village_id: str) -> dict[str, str]:
    """The kelurahan/desa must be one of the list, and of the kecamatan chosen (when one is)."""
    if not village_id:
        return {}
    village = chosen_village(session, village_id)
    if village is None:
        return {"village_id": _("Pilih kelurahan/desa dari daftar.")}
    if district_id and str(village.district_id) != district_id:
        return {"village_id": _("Kelurahan/desa ini bukan di kecamatan yang dipilih. Pilih yang ada di kecamatan "
                                "itu, atau „Tidak tahu”.")}
    return {}


def district_of(session: Session, village_id: str) -> int | None:
    """The kecamatan of the kelurahan/desa chosen, for a report that named only the kelurahan."""
    village = chosen_village(session, village_id)
    return village.district_id if village is not None else None
