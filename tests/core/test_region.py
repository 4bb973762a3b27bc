"""The region by its Kemendagri code (REGION_CODE, issue 24): what it decides on a fresh database (the city's
name and province, its zone, its kecamatan and kelurahan/desa, the demo data), and that a database holding
reports keeps its region."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from server import clock, i18n, migrate, region
from server.accounts import demo, regions
from server.accounts.models import District, School, User, Village
from server.app import create_app
from server.db import make_engine
from server.models import RegionRecord
from server.service_info import load as load_service_info
from server.settings import Settings, SettingsError, from_env
from tests.support.reports import make_report
from tests.support.web import sign_in


@pytest.mark.parametrize(("code", "name", "province", "zone", "key"), [
    ("63.72", "Kota Banjarbaru", "Kalimantan Selatan", "WITA", "Asia/Makassar"),
    ("3276", "Kota Depok", "Jawa Barat", "WIB", "Asia/Jakarta"),
    ("91.71", "Kota Jayapura", "Papua", "WIT", "Asia/Jayapura"),
])
def test_a_kemendagri_code_names_the_city_its_province_and_its_zone(code, name, province, zone, key):
    found = from_env({"REGION_CODE": code}).region
    assert (found.name, found.province, found.zone, found.zone_key) == (name, province, zone, key)


@pytest.mark.parametrize("code", ["94.71", "63", "63.72.04", "Banjarbaru"])
def test_a_code_that_is_no_kabupaten_or_kota_is_refused_at_start(code):
    with pytest.raises(SettingsError, match="not a kabupaten/kota code"):
        from_env({"REGION_CODE": code})


def test_the_default_is_kota_banjarbaru_and_its_kecamatan_come_from_the_library(db):
    record = db.execute(select(RegionRecord)).scalar_one()
    assert (record.code, record.name, record.province, record.zone) == ("63.72", "Kota Banjarbaru",
                                                                        "Kalimantan Selatan", "WITA")
    kecamatan = dict(db.execute(select(District.code, District.name).where(District.active)).all())
    assert kecamatan == {"63.72.02": "Landasan Ulin", "63.72.03": "Cempaka", "63.72.04": "Banjarbaru Utara",
                         "63.72.05": "Banjarbaru Selatan", "63.72.06": "Liang Anggang"}
    assert [p.code for p in region.kecamatan("63.72")] == sorted(kecamatan)
    villages = db.execute(select(Village.name).join(District).where(District.code == "63.72.04")).scalars().all()
    assert "Loktabat Utara" in villages
    assert "Komet" in villages
    assert db.execute(select(func.count()).select_from(Village)).scalar() == sum(
        len(region.villages(code)) for code in kecamatan)


def _fresh(tmp_path: Path, code: str) -> Settings:
    settings = replace(Settings(), database_url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                       data_dir=tmp_path / "var", dispatcher="off", region_code=code)
    migrate.upgrade(make_engine(settings.db_url))
    return settings


def test_a_fresh_install_for_depok_shows_depoks_kecamatan_wib_times_and_its_2027_holidays(tmp_path, pinned_clock):
    settings = _fresh(tmp_path, "32.76")
    app = create_app(settings)  # the first start sets the database up for the region
    assert clock.zone_name() == "WIB"
    with Session(app.state.engine) as session:
        demo.seed_demo(session)
        session.commit()
        record = session.execute(select(RegionRecord)).scalar_one()
        assert (record.name, record.province, record.zone) == ("Kota Depok", "Jawa Barat", "WIB")
        assert load_service_info(session).city_name == "Kota Depok"
        schools = set(session.execute(select(School.name)).scalars())
        assert "SMP Negeri 1 Depok" in schools
        assert not any("Banjarbaru" in name for name in schools)
        counselor = session.execute(select(User).where(User.username == "konselor")).scalar_one()
        assert session.get(District, counselor.district_id).code.startswith("32.76.")
    with TestClient(app) as client:
        form = client.get("/lapor").text
        for kecamatan in ("Beji", "Cimanggis", "Sukmajaya", "Pancoran Mas"):
            assert f">{kecamatan}</option>" in form
        assert "Cempaka" not in form
        assert "Landasan Ulin" not in form
        assert "Kecamatan Beji" in form  # the kelurahan, grouped by kecamatan
        sign_in(client, "supervisor")
        holidays = client.get("/jadwal/libur?tahun=2027")
        assert holidays.status_code == 200
        assert "Idulfitri 1448 H" in holidays.text
        assert "SKB Nomor 1205 Tahun 2026" in holidays.text
        assert "belum diisi" not in holidays.text
        # 1 December 2026, 01.17 UTC is 08.17 in Depok.
        assert "(WIB)" in client.get("/statistik/").text
    assert i18n.format_local(datetime(2026, 12, 1, 1, 17, tzinfo=UTC)).endswith("08.17.00 WIB")


def test_a_database_that_holds_reports_keeps_its_region(app, db, tmp_path):
    make_report(app, db)
    settings = replace(app.state.settings, region_code="32.76")
    with pytest.raises(SettingsError) as refused:
        create_app(settings)
    assert "63.72 (Kota Banjarbaru)" in str(refused.value)
    assert "holds its reports" in str(refused.value)
    assert "REGION_CODE=63.72" in str(refused.value)
    assert db.execute(select(RegionRecord.code)).scalar_one() == "63.72"
    assert db.execute(select(func.count()).select_from(District).where(District.code.like("32.76.%"))).scalar() == 0


def test_a_database_without_reports_takes_the_new_region(app, db):
    assert regions.set_up(db, from_env({"REGION_CODE": "91.71"}).region)
    db.commit()
    assert db.execute(select(RegionRecord.name)).scalar_one() == "Kota Jayapura"
    active = set(db.execute(select(District.name).where(District.active)).scalars())
    assert "Abepura" in active
    assert "Cempaka" not in active
    assert not regions.set_up(db, from_env({"REGION_CODE": "91.71"}).region)  # nothing left to do
