"""The report form's last step speaks to whoever is reporting, and asks for a phone number and a safe time only
when a call or WhatsApp is chosen."""

from __future__ import annotations

import re

from tests.support.reports import ADULT_EXTRA, field_block, only_report, submit_report


def shown(html: str, voice: str) -> list[str]:
    """The texts of one voice that the page shows (not hidden) without a script."""
    return re.findall(rf'<span data-voice="{voice}">([^<]*)</span>', html)


def test_it_asks_a_child_in_their_own_words_before_they_say_who_they_are(client):
    page = client.get("/lapor")
    assert page.status_code == 200
    child = shown(page.text, "child")
    assert "Apakah kamu mau dibantu konselor?" in child
    assert "Apakah orang tua atau walimu tahu dan setuju kamu melapor?" in child
    assert "Jangan beri tahu mereka: mungkin mereka yang menyakitiku" in child
    assert shown(page.text, "adult") == []
    assert re.search(r'<span data-voice="adult" hidden>Apakah anak setuju kasus ini ditangani konselor\?</span>',
                     page.text)


def test_it_asks_an_adult_about_the_childs_assent_and_the_parents_consent(client):
    sent = submit_report(client, reporter_kind="teacher", child_words="", **ADULT_EXTRA)
    assert sent.response.status_code == 422
    adult = shown(sent.response.text, "adult")
    assert "Apakah anak setuju kasus ini ditangani konselor?" in adult
    assert "Persetujuan orang tua/wali" in adult
    assert "Bagaimana konselor boleh menghubungi Anda dengan aman?" in adult
    assert shown(sent.response.text, "child") == []


def test_it_asks_a_child_reporting_a_friend_about_the_friend(client):
    sent = submit_report(client, reporter_kind="friend", child_words="")
    assert "Apakah temanmu mau dibantu konselor?" in shown(sent.response.text, "friend")
    assert shown(sent.response.text, "adult") == []


def test_it_does_not_ask_a_child_who_consented_instead_of_their_parents(client, db):
    sent = submit_report(client, parent_consent="parent_may_harm", consent_by="Bibi", consent_reason="x")
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.parent_consent, report.consent_by, report.consent_reason) == ("parent_may_harm", "", "")


def test_it_still_asks_an_adult_who_consented_instead(client, db):
    sent = submit_report(client, reporter_kind="parent", parent_consent="parent_may_harm", **ADULT_EXTRA)
    assert sent.response.status_code == 422
    assert "Tulis siapa yang memberi persetujuan" in field_block(sent.response.text, "consent_by")


def test_it_hides_the_phone_number_and_safe_time_until_a_call_or_whatsapp_is_chosen(client):
    page = client.get("/lapor")
    assert re.search(r'<div data-contact-phone hidden>\s*<div class="field">\s*<label class="field__label" '
                     r'for="field-contact_detail">Nomor HP</label>', page.text)
    sent = submit_report(client, contact_method="whatsapp", contact_detail="08", child_words="")
    assert sent.response.status_code == 422
    assert "<div data-contact-phone>" in sent.response.text
    assert "Jumlah angkanya tidak pas" in field_block(sent.response.text, "contact_detail")


def test_it_drops_a_number_and_safe_time_left_in_hidden_fields_when_no_call_is_chosen(client, db):
    sent = submit_report(client, contact_method="app", contact_detail="bukan nomor\x00",
                         contact_safe_time="x" * 500)
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.contact_method, report.contact_detail, report.contact_safe_time) == ("app", "", "")


def test_it_keeps_the_number_and_safe_time_of_a_call(client, db):
    sent = submit_report(client, contact_method="phone", contact_detail="0812 3456 7890",
                         contact_safe_time="sore hari")
    assert sent.response.status_code == 200
    report = only_report(db)
    assert (report.contact_detail, report.contact_safe_time) == ("+6281234567890", "sore hari")
