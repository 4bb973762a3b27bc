"""Masking personal data in free text wherever it leaves a case: exports, the SIMFONI sheet, every log line.

Detection is lokal-id's Samaran (Indonesian patterns: NIK, phone numbers, e-mail, names after a cue, addresses,
birth dates) with our own cues on top for how people here write: Banjar and family words before a name ("acil
Ijah", "paman Darto", "ulun Rina"), "si"/"kak"/"bu" before a capitalised word, RT/RW and kelurahan after a
street, numbers broken up by spaces or dots. Each kind becomes one fixed placeholder ([NAMA], [NIK], ...): the
text that leaves never carries a way back, the counselor reads the original on the case page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from lokal import PiiType, detect_pii

PLACEHOLDERS: dict[PiiType, str] = {
    "NAME": "[NAMA]",
    "NIK": "[NIK]",
    "KK": "[NIK]",
    "PHONE": "[TELEPON]",
    "EMAIL": "[EMAIL]",
    "ADDRESS": "[ALAMAT]",
    "BIRTH_DATE": "[TANGGAL LAHIR]",
}
# Other numbers that single a person out are masked too, under one word: a case needs none of them outside.
OTHER_NUMBERS: tuple[PiiType, ...] = (
    "NPWP", "PASSPORT", "SIM", "NIP", "BPJS", "NISN", "AKTA", "BANK_ACCOUNT", "CARD", "PLATE", "IP", "GEO")
PLACEHOLDERS.update(dict.fromkeys(OTHER_NUMBERS, "[NOMOR]"))
# Attributes (religion, health, gender...) are what a report of violence is about: masking them would empty it.
LIBRARY_TYPES = tuple(PLACEHOLDERS)

# Words before a person's name in everyday and Banjar writing; the name is the capitalised word(s) after it.
_NAME_CUES = (
    "si", "kak", "ka", "kakak", "adik", "dik", "de", "dek", "ading", "bu", "ibu", "bunda", "pak", "bapak", "om",
    "tante", "paman", "pamanda", "acil", "julak", "angah", "uwa", "uwak", "abah", "uma", "datu", "nini", "kai",
    "mas", "mbak", "mba", "bang", "abang", "teh", "aa", "kang", "pakde", "bude", "bulik", "paklik", "ustad",
    "ustadz", "ustadzah", "guru", "sdr", "sdri", "an", "atas nama", "nama", "namanya", "namaku", "nama sy",
    "nama saya", "nama ulun", "ulun", "aku", "sy", "saya", "temanku", "temen", "temenku", "teman", "kawan", "kawanku",
    "pacarnya", "pacar", "tetangga", "tetanggaku", "sepupu", "sepupuku", "anak", "anakku", "anaknya", "cucu",
    "bibi", "kakek", "nenek", "mama", "papa", "ayah", "ayahnya", "ibunya", "bapaknya", "neneknya", "kakeknya", "wali", "kepsek",
    "pelaku", "pelakunya", "oleh", "dgn", "dengan", "sama", "samaan", "lawan", "dari", "kpd", "kepada", "buat", "pian", "ikam",
)
# A capitalised word after a cue that is no name: pronouns, places, days, common words written at a sentence start.
_NOT_NAMES = frozenset(w.lower() for w in (
    "Saya", "Sy", "Aku", "Ulun", "Pian", "Ikam", "Dia", "Ia", "Mereka", "Kami", "Kita", "Anak", "Ibu", "Bapak",
    "Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu", "Sekolah", "Rumah", "Jalan", "Jl", "Gang",
    "Tuhan", "Allah", "Polisi", "Guru", "Kelas", "Sore", "Pagi", "Malam", "Siang", "Tadi", "Kemarin", "Kmrn",
    "Banjarbaru", "Banjarmasin", "Martapura", "Landasan", "Ulin", "Liang", "Anggang", "Cempaka", "Loktabat",
    "Guntung", "Manggis", "Kalsel", "Indonesia", "WA", "HP", "SD", "SMP", "SMA", "SMK", "MI", "MTs", "TK", "RT",
    "RW", "NIK", "Sudah", "Belum", "Tidak", "Gak", "Gk", "Tdk", "Ya", "Iya", "Mau", "Bisa", "Tolong", "Mohon",
    "Terima", "Kasih", "Makasih", "Yang", "Itu", "Ini", "Juga", "Lagi", "Sering", "Pernah", "Waktu", "Pas",
    "Habis", "Abis", "Dan", "Atau", "Karena", "Krn", "Soalnya", "Takut", "Sakit", "Puskesmas", "Kantor",
    "Lapor", "Hari", "Bulan", "Tahun", "Desember", "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Korban", "Pelaku", "Juli", "Agustus", "September", "Oktober", "November", "Kak", "Bu", "Pak", "Om", "Tante", "Paman", "Acil",
))
_CUE_WORDS = frozenset(c for c in _NAME_CUES if " " not in c) | {"hj", "h", "hajjah", "haji", "ust", "drs", "dr"}
_CUE_PATTERN = "|".join(sorted((re.escape(c).replace(r"\ ", r"\s+") for c in _NAME_CUES), key=len, reverse=True))
# Family words take -ku/-mu/-nya and "tiri" ("pamanku Udin", "ibu tirinya Marni", "tante nya Kirana").
_CUE_BEFORE = re.compile(rf"(?i:\b(?:{_CUE_PATTERN})(?:\s*(?:ku|mu|nya))?(?:\s+tiri(?:ku|mu|nya)?)?)\.?[\s:,]+$")
_NAME_WORD = r"[A-Z][a-z'’]+(?:-[A-Z]?[a-z]+)?"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:\.?\s+{_NAME_WORD}){{0,3}}")


def _cued_names(text: str) -> Iterable[tuple[int, int]]:
    """Capitalised words after a cue word (or after a title inside the run: "Pak Rahmat", "Hj. Salmah")."""
    for run in _NAME_RUN.finditer(text):
        words = [(m.start() + run.start(), m.end() + run.start()) for m in re.finditer(r"[^\s.]+", run.group())]
        cued = bool(_CUE_BEFORE.search(text[max(0, run.start() - 20):run.start()]))
        while words and text[words[0][0]:words[0][1]].lower() in _CUE_WORDS:
            words.pop(0)
            cued = True
        while words and text[words[-1][0]:words[-1][1]].lower() in _NOT_NAMES:
            words.pop()
        if cued and words and text[words[0][0]:words[0][1]].lower() not in _NOT_NAMES:
            yield words[0][0], words[-1][1]


# Streets, lanes and housing estates; the address runs on through numbers, RT/RW and the place names after it.
_STREET = re.compile(
    r"(?i:\b(?:jalan|jln|jl|gang|gg|komplek|komp|kompleks|perum|perumahan|griya|asrama|blok|lrg|lorong|dusun|"
    r"desa|kampung|kp)\b\.?)(?!\s*(?:ke|kaki|sama|dulu|pulang|lagi|terus|bareng)\b)\s*[\w'’./-]+"
    r"(?:(?:[ \t]+[a-z]+){1,2}(?=[ \t]+(?:no\b|nomor|nmr|rt\b|[0-9])))?(?:[ \t]+(?:[A-Z][\w'’.-]*|no\.?|nomor|nmr|[0-9][\w/-]*|rt|rw|blok|"
    r"gg\.?|gang|kel\.?|kec\.?|kelurahan|kecamatan|[A-Z]\b)(?:[.,]?))*"
)
_RT_RW = re.compile(r"(?i:\brt\.?\s*0*[0-9]{1,3}\s*(?:/|\s|rw\.?)\s*(?:rw\.?\s*)?0*[0-9]{1,3}\b)")
# Digits written with spaces, dots or dashes in between: a NIK is 16 of them, a phone 9 to 13 after 0, 62 or +62.
_SPACED_DIGITS = re.compile(r"(?<![\w+])\+?[0-9](?:[ .\-]?[0-9]){7,18}(?!\w)")
_EMAIL_SPELLED = re.compile(
    r"(?i)\b[\w.+-]+\s*(?:@|\(at\)|\[at\]|\s+at\s+)\s*[\w-]+\s*(?:\.|\(dot\)|\s+dot\s+)\s*(?:[\w-]+\s*\.\s*)*[a-z]{2,6}\b")
_BIRTH = re.compile(
    r"(?i)\b(?:lahir|lhr|kelahiran|ttl|tgl\s*lahir|tanggal\s*lahir)\b[^0-9\n]{0,25}?"
    r"(?P<date>[0-9]{1,2}\s*[-/. ]\s*(?:[0-9]{1,2}|jan\w*|feb\w*|mar\w*|apr\w*|mei|jun\w*|jul\w*|agu\w*|ags|sep\w*|"
    r"okt\w*|nov\w*|des\w*)\s*[-/. ]\s*[0-9]{2,4})")


@dataclass(frozen=True)
class Span:
    kind: str  # NAMA, NIK, TELEPON, EMAIL, ALAMAT, TANGGAL LAHIR or NOMOR
    start: int
    end: int


def _kind(placeholder: str) -> str:
    return placeholder.strip("[]")


def _digits_kind(value: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", value)
    if len(digits) == 16 and not value.startswith("+") and not digits.startswith(("0", "62")):
        return "NIK"
    national = digits[2:] if digits.startswith("62") else digits[1:] if digits.startswith("0") else digits
    if 9 <= len(national) <= 12 and national.startswith("8"):
        return "TELEPON"
    if 6 <= len(national) <= 11 and digits.startswith("0") and national[0] in "2345679":
        return "TELEPON"
    return None


def find(text: str) -> list[Span]:
    """The personal data in ``text``: non-overlapping spans, in order (a longer span wins an overlap)."""
    spans: list[Span] = []
    for pii in detect_pii(text, types=LIBRARY_TYPES):
        if pii.type == "NAME" and pii.value.lower() in _NOT_NAMES:
            continue  # "atas nama anak"
        spans.append(Span(_kind(PLACEHOLDERS[pii.type]), pii.start, pii.end))
    for match in _SPACED_DIGITS.finditer(text):
        kind = _digits_kind(match.group())
        if kind:
            spans.append(Span(kind, match.start(), match.end()))
    spans.extend(Span("EMAIL", match.start(), match.end()) for match in _EMAIL_SPELLED.finditer(text)
                 if "@" in match.group() or re.search(r"(?i)\bat\b|\(at\)|\[at\]", match.group()))
    spans.extend(Span("TANGGAL LAHIR", match.start("date"), match.end("date")) for match in _BIRTH.finditer(text))
    spans.extend(Span("NAMA", start, end) for start, end in _cued_names(text))
    spans.extend(Span("ALAMAT", match.start(), match.end()) for match in _STREET.finditer(text))
    spans.extend(Span("ALAMAT", match.start(), match.end()) for match in _RT_RW.finditer(text))
    return _merge(text, spans)


def _merge(text: str, spans: Iterable[Span]) -> list[Span]:
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        end = span.end
        while end > span.start and text[end - 1] in " .,;:":
            end -= 1
        if end <= span.start:
            continue
        span = Span(span.kind, span.start, end)
        if chosen and span.start < chosen[-1].end:
            last = chosen[-1]
            if span.kind == last.kind == "ALAMAT" and span.end > last.end:
                chosen[-1] = Span("ALAMAT", last.start, span.end)  # a street and the RT/RW after it are one address
            continue
        chosen.append(span)
    return chosen


def mask(text: str) -> str:
    """``text`` with each piece of personal data replaced by its placeholder ([NAMA], [NIK], [TELEPON], [EMAIL],
    [ALAMAT], [TANGGAL LAHIR], [NOMOR])."""
    if not text:
        return text
    out: list[str] = []
    cursor = 0
    for span in find(text):
        out.append(text[cursor:span.start])
        out.append(f"[{span.kind}]")
        cursor = span.end
    out.append(text[cursor:])
    return "".join(out)


_formatter = logging.Formatter()


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a record's formatted message, traceback and stack text in place (once: it is marked as done)."""
    if getattr(record, "_bintang_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is still written, with its raw text masked
        message = f"{record.msg} {record.args}"
    record.msg, record.args = mask(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask(record.exc_text)
    if record.stack_info:
        record.stack_info = mask(record.stack_info)
    record._bintang_masked = True
    return record


class MaskingFilter(logging.Filter):
    """The same masking as a handler filter, for a handler set up outside the app (a log shipper's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install_log_masking() -> None:
    """Mask every log record of the process as it is made, whichever logger makes it and whichever handlers write
    it. A filter on the handlers is not enough: Litestar's logging config (and uvicorn's, or a --log-config) replaces
    the root logger's handlers after we set them up, and the filter would be gone with them. The record factory is
    called only for records a logger lets through (after the level check), so a debug line that is not written
    costs nothing."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_bintang_masking", False):
        return

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    factory._bintang_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)

