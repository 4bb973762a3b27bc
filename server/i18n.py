"""Translations and times in the service's own zone (WIB, WITA or WIT, server/clock.py). Indonesian is the source language; English is a catalog.

The active language lives in a context variable set once per request by `LocaleMiddleware`, so handlers,
services and templates all translate the same way without passing the request around.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

from server.clock import LOCAL, zone_name
from server.settings import ROOT

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "bahasa"
TRANSLATIONS_DIR = ROOT / "server" / "translations"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [language], domain="messages")


def current_language() -> str:
    return _language.get()


def set_language(language: str) -> None:
    _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@contextmanager
def language(language: str) -> Iterator[None]:
    """Speak `language` inside the block (e.g. a push message in the language its device asked for)."""
    token = _language.set(language if language in LANGUAGES else DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        _language.reset(token)


def gettext(message: str, **variables: object) -> str:
    text = translations(_language.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def lazy_gettext(message: str) -> LazyProxy:
    return LazyProxy(gettext, message, enable_cache=False)


_LOCALES = {"id": "id_ID", "en": "en_GB"}


def format_number(value: int | float | str | None) -> str:
    """A count or a measure as the reader's language writes it: "1.234" and "0,5" in Indonesian, "1,234" and
    "0.5" in English. Text (a suppressed count such as "<5", a dash for "none") is shown as it is."""
    if value is None or isinstance(value, str | bool):
        return "" if value is None else str(value)
    return format_decimal(value, locale=_LOCALES[_language.get()])


def local(value: datetime) -> datetime:
    """A moment in the service's zone."""
    return value.astimezone(LOCAL)


def format_local(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time as people in the region read it, always naming the zone (WIB, WITA or WIT)."""
    if value is None:
        return ""
    return _format_local(value, fmt, _language.get(), zone_name())


def format_local_date(value: datetime, fmt: str = "full") -> str:
    return _format_local_date(value, fmt, _language.get(), zone_name())


def format_local_time(value: datetime) -> str:
    return _format_local_time(value, _language.get(), zone_name())


def format_day(value: date, fmt: str = "full") -> str:
    """A calendar day (no moment, so no zone): a holiday, a month."""
    return format_date(value, fmt, locale=_LOCALES[_language.get()])


def format_local_time_bare(value: datetime) -> str:
    """The time alone, on a line or page that already says its zone."""
    return format_local_time(value).removesuffix(f" {zone_name()}")


# Formatting is a pure function of the moment, the pattern, the language and the zone, and Babel takes ~30 µs a
# call: an inbox page formats ~100 moments and a week of free slots ~300 (the same few dozen starts for every
# counselor), and the same pages are opened again and again. A few thousand remembered strings make that ~100 dict
# lookups.
@lru_cache(maxsize=8192)
def _format_local(value: datetime, fmt: str, language: str, zone: str) -> str:
    return f"{format_datetime(local(value), fmt, locale=_LOCALES[language])} {zone}"


@lru_cache(maxsize=4096)
def _format_local_date(value: datetime, fmt: str, language: str, zone: str) -> str:  # noqa: ARG001 - the zone is part of the cache key
    return format_date(local(value), fmt, locale=_LOCALES[language])


@lru_cache(maxsize=4096)
def _format_local_time(value: datetime, language: str, zone: str) -> str:
    pattern = "HH.mm" if language == "id" else "HH:mm"
    return f"{format_time(local(value), pattern, locale=_LOCALES[language])} {zone}"
