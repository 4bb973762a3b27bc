"""Reading posted forms: what a field holds, as the person typed it, and the characters no field may hold."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from datetime import date
from typing import Any, Self, cast

from server.i18n import gettext as _

# C0 and C1 control characters and DEL: invisible, never typed on purpose, and PostgreSQL refuses NUL in text
# (the whole write fails). New lines and tabs are allowed where a field has several lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def one(data: dict[str, Any], name: str) -> str:
    """A field's value, stripped; the last one when it was sent twice, "" when it was not sent."""
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def many(data: dict[str, Any], name: str) -> list[str]:
    """Every non-empty value of a field sent once per choice (checkboxes)."""
    value = data.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def posted(default: Any = "", *, name: str = "", raw: bool = False, empty_is_default: bool = False,
           true: str = "", read: bool = True) -> Any:
    """A field of a `PostedForm`: `name` when the posted field is named otherwise (the pages' Indonesian names),
    `raw` to keep spaces (a password), `empty_is_default` to read an empty field as the default, `true` for a
    bool field (the value that means yes), `read=False` for what the form works out itself."""
    metadata = {"name": name, "raw": raw, "empty_is_default": empty_is_default, "true": true, "read": read}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=type(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _fields(form: type[PostedForm]) -> tuple[dataclasses.Field[Any], ...]:
    """The fields of a `PostedForm` subclass, which is a dataclass; PostedForm itself is not one, so its type
    cannot say so."""
    return dataclasses.fields(cast(Any, form))


class PostedForm:
    """The one way a posted form is read. A subclass is a dataclass of the fields as they were typed (so a refused
    form comes back with nothing lost): a `str` field holds the field's value stripped (`one`), a `list[str]`
    field every value sent (`many`), a `bool` field whether the value was `posted(true=...)`. Checking is the
    service's work, never the reading's; `unreadable` names each field that held a control character (the
    fields in `MULTILINE` may hold new lines and tabs), with the message to show next to it, and the service
    refuses the form with it: PostgreSQL refuses NUL in text, and nothing invisible is stored."""

    MULTILINE: frozenset[str] = frozenset()
    unreadable: dict[str, str] = {}  # set on every form read by from_data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Self:
        values: dict[str, Any] = {}
        for spec in _fields(cls):
            meta = spec.metadata
            if not meta.get("read", True):
                continue
            name = meta.get("name") or spec.name
            if spec.type == "list[str]":
                values[spec.name] = many(data, name)
            elif spec.type == "bool":
                values[spec.name] = one(data, name) == (meta.get("true") or "1")
            elif meta.get("raw"):
                value = data.get(name, "")
                values[spec.name] = str(value[-1] if isinstance(value, list) and value else value or "")
            else:
                value = one(data, name)
                values[spec.name] = spec.default if value == "" and meta.get("empty_is_default") else value
        form = cls(**values)
        names = {spec.metadata.get("name") or spec.name for spec in _fields(cls)
                 if spec.metadata.get("read", True)}
        form.unreadable = control_character_errors({name: value for name, value in data.items() if name in names},
                                                   multiline=cls.MULTILINE)
        form.read(data)
        return form

    def read(self, data: dict[str, Any]) -> None:
        """What a form works out from the posted data beyond its fields (none by default)."""


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return bool((_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(value))


def without_control_characters(value: str, *, multiline: bool = False) -> str:
    """The value as it looks on the screen, so a form sent back shows what was typed and can be sent again."""
    return (_CONTROL_EXCEPT_LINES if multiline else _CONTROL).sub("", value)


def unreadable_message() -> str:
    return _("Ada tanda tak terlihat di isian ini yang tidak bisa kami simpan. Tanda itu sudah kami hapus: "
             "periksa lagi isiannya, lalu kirim lagi.")


def text_error(value: str, *, limit: int, required: str = "", too_long: str = "",
               multiline: bool = False) -> str | None:
    """The one check of a typed text field, always in this order: required (when `required` is the message to
    give), then no control characters, then not longer than `limit` (`too_long`, or the usual words). None when
    the value may be kept."""
    if not value:
        return required or None
    if has_control_characters(value, multiline=multiline):
        return unreadable_message()
    if len(value) > limit:
        return too_long or _("Terlalu panjang: paling banyak %(n)s huruf.", n=limit)
    return None


def control_character_errors(data: dict[str, Any], multiline: Collection[str] = ()) -> dict[str, str]:
    """An error for each posted field that holds a control character (new lines and tabs are allowed in the
    `multiline` fields), keyed by the field's name, so it shows next to that field."""
    errors: dict[str, str] = {}
    for name, value in data.items():
        values = value if isinstance(value, list) else [value]
        if any(has_control_characters(str(v), multiline=name in multiline) for v in values):
            errors[name] = unreadable_message()
    return errors
# Numbers and dates a row can hold: anything outside is "not found" or "choose from the list", never a database
# error (SQLite and PostgreSQL refuse integers past 64 and 32 bits; Python's dates end in year 9999).
MAX_ID = 2_147_483_647
FIRST_YEAR, LAST_YEAR = 2000, 2100


def row_id(value: Any) -> int | None:
    """A positive id that fits the database's integer columns, or None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def to_id(value: str | None) -> int | None:
    """A posted id; anything that is not a positive whole number is no choice at all."""
    value = (value or "").strip()
    return int(value) if value.isdigit() and 0 < len(value) <= 12 else None


def bounded_int(value: Any) -> int | None:
    """Any whole number within the database's integer range (a version, a rank), or None."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if -MAX_ID <= number <= MAX_ID else None


def year_in_range(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def day_within_range(value: str | None) -> date | None:
    """A YYYY-MM-DD date between FIRST_YEAR and LAST_YEAR, or None."""
    if not value or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if year_in_range(day.year) else None
