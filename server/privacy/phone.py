"""Phone numbers people type: one stored form (E.164, +6281234567890), one shown form (0812-3456-7890), and one
parse that also says whether the number can receive WhatsApp (a mobile number; a landline cannot).

Parsing is lokal-id's ``parse_phone`` (Indonesian prefixes and lengths); the messages next to the field are ours,
in the words of the form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lokal import parse_phone

from server.i18n import gettext as _

# What people put around the digits: spaces, dashes, dots, brackets around an area code, and a leading +.
_ALLOWED = re.compile(r"[0-9\s().+\-]+")


@dataclass(frozen=True)
class Phone:
    e164: str  # stored: +6281234567890
    national: str  # shown: 0812-3456-7890, (0511) 4772123
    mobile: bool  # a mobile number: one that can receive WhatsApp

    @property
    def whatsapp_link(self) -> str:
        return f"https://wa.me/{self.e164.lstrip('+')}" if self.mobile else ""


class PhoneError(ValueError):
    """The message to show next to the field, in plain Indonesian."""


def parse(value: str) -> Phone:
    """The number in one form, or PhoneError with what is wrong with what was typed."""
    typed = value.strip()
    if not typed:
        raise PhoneError(_("Nomor HP masih kosong. Tulis misalnya 0812 3456 7890."))
    if not _ALLOWED.fullmatch(typed) or "+" in typed[1:]:
        raise PhoneError(_("Nomor HP hanya berisi angka (boleh dengan spasi atau tanda -), misalnya 0812 3456 7890."))
    info = parse_phone(typed)
    if not info.valid or info.e164 is None or info.national is None:
        code = info.errors[0].code if info.errors else "format"
        if code == "length":
            raise PhoneError(_("Jumlah angkanya tidak pas: nomor HP Indonesia 10 sampai 13 angka, misalnya "
                               "0812 3456 7890. Periksa lagi, mungkin ada angka yang terlewat atau dobel."))
        raise PhoneError(_("Nomor Indonesia diawali 08, 62 atau +62, misalnya 0812 3456 7890 atau +62 812 3456 7890."))
    return Phone(e164=info.e164, national=info.national, mobile=info.type == "mobile")


def parse_mobile(value: str) -> Phone:
    """A number that can receive a WhatsApp message: a mobile number, not a landline."""
    phone = parse(value)
    if not phone.mobile:
        raise PhoneError(_("Ini nomor telepon rumah; WhatsApp perlu nomor HP (diawali 08), misalnya 0812 3456 7890."))
    return phone


def parse_stored(value: str) -> Phone | None:
    """A stored number read back; None for one kept as typed because it did not parse when it was normalised."""
    if not value:
        return None
    try:
        return parse(value)
    except PhoneError:
        return None


def shown(value: str) -> str:
    """The national form of a stored number (0812-3456-7890); a number that never parsed is shown as typed."""
    phone = parse_stored(value)
    return phone.national if phone else value


def whatsapp_link(value: str) -> str:
    """The wa.me link of a stored mobile number, or "" when it cannot receive WhatsApp."""
    phone = parse_stored(value)
    return phone.whatsapp_link if phone else ""
