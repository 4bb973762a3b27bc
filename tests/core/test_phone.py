"""The one parse of phone numbers (server/privacy/phone.py): stored form, shown form, WhatsApp, and the messages."""

from __future__ import annotations

import pytest

from server.privacy import phone


@pytest.mark.parametrize(("typed", "e164", "national", "mobile"), [
    ("0812 3456 7890", "+6281234567890", "0812-3456-7890", True),
    ("0812-3456-7890", "+6281234567890", "0812-3456-7890", True),
    ("+62 812 3456 7890", "+6281234567890", "0812-3456-7890", True),
    ("+62 (0)812 3456 7890", "+6281234567890", "0812-3456-7890", True),
    ("6281234567890", "+6281234567890", "0812-3456-7890", True),
    ("0812.3456.7890", "+6281234567890", "0812-3456-7890", True),
    ("  081234567890 ", "+6281234567890", "0812-3456-7890", True),
    ("0896 1234 5678", "+6289612345678", "0896-1234-5678", True),
    ("08111129129", "+628111129129", "0811-1129-129", True),
    ("(0511) 477 2345", "+625114772345", "(0511) 4772345", False),
    ("021 555 1234", "+62215551234", "(021) 5551234", False),
])
def test_a_number_written_any_common_way_has_one_stored_and_one_shown_form(typed, e164, national, mobile):
    number = phone.parse(typed)
    assert (number.e164, number.national, number.mobile) == (e164, national, mobile)
    assert phone.shown(number.e164) == national


@pytest.mark.parametrize(("typed", "words"), [
    ("", "Nomor HP masih kosong."),
    ("0812 345", "Jumlah angkanya tidak pas"),
    ("0812 3456 7890 12", "Jumlah angkanya tidak pas"),
    ("+1 415 555 0100", "Nomor Indonesia diawali 08, 62 atau +62"),
    ("1812 3456 7890", "Nomor Indonesia diawali 08, 62 atau +62"),
    ("0812 34S6 7890", "Nomor HP hanya berisi angka"),
    ("0812+3456", "Nomor HP hanya berisi angka"),
    ("nomor kakak", "Nomor HP hanya berisi angka"),
])
def test_a_typo_gets_a_message_that_says_what_is_wrong(typed, words):
    with pytest.raises(phone.PhoneError) as caught:
        phone.parse(typed)
    assert words in str(caught.value)


def test_whatsapp_needs_a_mobile_number():
    assert phone.parse_mobile("0812 3456 7890").whatsapp_link == "https://wa.me/6281234567890"
    assert phone.whatsapp_link("+6281234567890") == "https://wa.me/6281234567890"
    assert phone.whatsapp_link("+625114772345") == ""
    with pytest.raises(phone.PhoneError, match="WhatsApp perlu nomor HP"):
        phone.parse_mobile("(0511) 477 2345")


def test_a_stored_number_that_never_parsed_is_shown_as_typed():
    assert phone.parse_stored("nomor kakak 0812") is None
    assert phone.shown("nomor kakak 0812") == "nomor kakak 0812"
    assert phone.whatsapp_link("nomor kakak 0812") == ""
    assert phone.shown("") == ""
