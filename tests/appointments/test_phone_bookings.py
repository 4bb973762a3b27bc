"""A phone session asks for the number to call (or uses the one on the code holder's report); the number is kept
with the appointment only and shown to its counselor."""

import pytest
from sqlalchemy import select

from server.appointments import service
from server.reports.models import Report
from tests.support.appointments import book, booked_id, booking_page, code_holder, counseling, error_for, fresh, person


@pytest.mark.parametrize(("typed", "kept"), [
    ("0812-3456-7890", "+6281234567890"), ("+62 812 3456 7890", "+6281234567890"), ("(0511) 477 2345", "+625114772345"),
])
def test_it_takes_indonesian_numbers_as_people_write_them(typed, kept):
    assert service.phone_number(typed) == kept


@pytest.mark.parametrize("typed", ["12345", "+1 415 555 0100", "0812", "0812345678901234", "08123abc456", "6281234"])
def test_it_refuses_what_is_no_indonesian_number(typed):
    assert service.phone_number(typed) is None


def test_it_asks_for_the_number_for_a_phone_session_and_shows_it_to_the_counselor(as_user, db):
    phone_service = counseling(db, name="Konseling lewat telepon", mode="phone")
    client = as_user("anak")
    assert "Nomor yang kami telepon" in booking_page(client, phone_service)
    missing = book(client, phone_service, note="Sore saja.")
    assert missing.status_code == 422
    assert "nomor yang bisa kami telepon" in error_for(missing.text, "phone_number")
    assert "Sore saja." in missing.text
    wrong = book(client, phone_service, phone_number="+1 415 555 0100")
    assert wrong.status_code == 422
    assert "Nomor Indonesia diawali 08, 62 atau +62" in error_for(wrong.text, "phone_number")
    assert 'value="+1 415 555 0100"' in wrong.text  # what was typed is kept
    typo = book(client, phone_service, phone_number="0812 345")
    assert typo.status_code == 422
    assert "Jumlah angkanya tidak pas" in error_for(typo.text, "phone_number")
    assert 'value="0812 345"' in typo.text
    appointment = fresh(db, booked_id(book(client, phone_service, phone_number="0812 3456 7890")))
    assert appointment.phone_number == "+6281234567890"
    counselor_page = as_user("konselor").get(f"/jadwal/{appointment.id}")
    assert counselor_page.status_code == 200
    assert "Nomor untuk ditelepon" in counselor_page.text
    assert 'href="tel:+6281234567890" data-phone>0812-3456-7890</a>' in counselor_page.text
    # Kept with the appointment only: the account knows no number.
    assert "6281234567890" not in str(vars(person(db, "anak")))


def test_it_does_not_ask_for_a_number_for_a_face_to_face_session(as_user, db):
    service_type = counseling(db)
    client = as_user("anak")
    assert "Nomor yang kami telepon" not in booking_page(client, service_type)
    assert fresh(db, booked_id(book(client, service_type, phone_number="081234567890"))).phone_number == ""


def test_it_uses_the_number_on_a_code_holders_report_when_none_is_typed(make_client, db):
    phone_service = counseling(db, name="Konseling lewat telepon", mode="phone")
    client = make_client()
    report = db.get(Report, code_holder(client, db))
    report.contact_method, report.contact_detail = "phone", "0813 9999 8765"
    db.add(report)
    db.commit()
    html = booking_page(client, phone_service)
    assert "Nomor yang kami telepon (boleh kosong)" in html
    assert "berakhiran 765" in html
    assert "0813 9999 8765" not in html
    assert "081399998765" not in html
    appointment = fresh(db, booked_id(book(client, phone_service)))
    assert appointment.phone_number == "+6281399998765"
    db.expire_all()
    assert db.execute(select(Report.contact_detail).where(Report.id == report.id)).scalar_one() == "0813 9999 8765"
