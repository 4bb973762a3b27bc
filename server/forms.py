"""Reading posted forms: what a field holds, as the person typed it."""

from __future__ import annotations

from typing import Any


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
