"""Translations and WITA times. Indonesian is the source language; English is a catalog.

The active language lives in a context variable set once per request by `LocaleMiddleware`, so handlers,
services and templates all translate the same way without passing the request around.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

from server.settings import ROOT

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANGUAGE_COOKIE = "bahasa"
WITA = ZoneInfo("Asia/Makassar")
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


def wita(value: datetime) -> datetime:
    return value.astimezone(WITA)


def format_wita(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time as people in Banjarbaru read it, always naming the zone."""
    if value is None:
        return ""
    return _format_wita(value, fmt, _language.get())


def format_wita_date(value: datetime, fmt: str = "full") -> str:
    return _format_wita_date(value, fmt, _language.get())


def format_wita_time(value: datetime) -> str:
    return _format_wita_time(value, _language.get())


# Formatting is a pure function of the moment, the pattern and the language, and Babel takes ~30 µs a call: an
# inbox page formats ~100 moments and a week of free slots ~300 (the same few dozen starts for every counselor),
# and the same pages are opened again and again. A few thousand remembered strings make that ~100 dict lookups.
@lru_cache(maxsize=8192)
def _format_wita(value: datetime, fmt: str, language: str) -> str:
    return f"{format_datetime(wita(value), fmt, locale=_LOCALES[language])} WITA"


@lru_cache(maxsize=4096)
def _format_wita_date(value: datetime, fmt: str, language: str) -> str:
    return format_date(wita(value), fmt, locale=_LOCALES[language])


@lru_cache(maxsize=4096)
def _format_wita_time(value: datetime, language: str) -> str:
    pattern = "HH.mm" if language == "id" else "HH:mm"
    return f"{format_time(wita(value), pattern, locale=_LOCALES[language])} WITA"
