"""Translations and WITA times. Indonesian is the source language; English is a catalog.

The active language lives in a context variable set once per request by `LocaleMiddleware`, so handlers,
services and templates all translate the same way without passing the request around.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
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


def _locale() -> str:
    return "id_ID" if _language.get() == "id" else "en_GB"


def wita(value: datetime) -> datetime:
    return value.astimezone(WITA)


def format_wita(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time as people in Banjarbaru read it, always naming the zone."""
    if value is None:
        return ""
    return f"{format_datetime(wita(value), fmt, locale=_locale())} WITA"


def format_wita_date(value: datetime, fmt: str = "full") -> str:
    return format_date(wita(value), fmt, locale=_locale())


def format_wita_time(value: datetime) -> str:
    return f"{format_time(wita(value), 'HH.mm' if _language.get() == 'id' else 'HH:mm', locale=_locale())} WITA"
