"""0012_phone_numbers: stored numbers that parse become E.164, the rest stay as typed."""

from __future__ import annotations

from sqlalchemy import text

from server import migrate
from tests.support.reports import make_report


def test_numbers_that_parse_are_normalised_and_the_rest_kept_as_typed(app, db, engine) -> None:
    typed = {"whatsapp": "0812-3456-7890", "phone": "(0511) 477 2345"}
    ids = {method: make_report(app, db, contact_method=method, contact_detail="+6281100000000").report.id
           for method in typed}
    kept = make_report(app, db, contact_method="phone", contact_detail="+6281100000000").report.id
    db.close()
    with engine.begin() as connection:  # as an earlier version stored them: as typed
        for method, number in typed.items():
            connection.execute(text("UPDATE report SET contact_detail = :n WHERE id = :id"), {"n": number, "id": ids[method]})
        connection.execute(text("UPDATE report SET contact_detail = 'nomor kakak 0812' WHERE id = :id"), {"id": kept})
    migrate.downgrade(engine, "0012_backup_runs")
    migrate.upgrade(engine)
    with engine.connect() as connection:
        stored = dict(connection.execute(text("SELECT id, contact_detail FROM report")).all())
    assert stored == {ids["whatsapp"]: "+6281234567890", ids["phone"]: "+625114772345", kept: "nomor kakak 0812"}
