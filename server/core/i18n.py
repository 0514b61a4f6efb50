"""Babel catalogs and the current request's locale.

The locale lives in a ContextVar set by the edge middleware, which wraps the
handler, so templates, services and error handlers of that request all see it.
Catalogs are read from locale/<lang>/LC_MESSAGES/messages.po at start-up (no
compile step to forget).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import LazyProxy, NullTranslations, Translations

from server.settings import ROOT

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
LOCALE_NAMES = {"zh_CN": "简体中文", "en": "English"}

_locale: ContextVar[str] = ContextVar("luzhi_locale", default=DEFAULT_LOCALE)
_zone: ContextVar[str] = ContextVar("luzhi_zone", default="Asia/Shanghai")


@cache
def translations(locale: str) -> NullTranslations:
    po = ROOT / "locale" / locale / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def normalize(locale: str | None) -> str | None:
    if not locale:
        return None
    value = locale.replace("-", "_")
    for known in LOCALES:
        if value.lower() == known.lower() or value.split("_")[0].lower() == known.split("_")[0].lower():
            return known
    return None


def set_locale(locale: str | None) -> None:
    _locale.set(normalize(locale) or DEFAULT_LOCALE)


def get_locale() -> str:
    return _locale.get()


def set_zone(zone: str) -> None:
    _zone.set(zone)


def gettext(message: str, **params: object) -> str:
    text = translations(_locale.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(_locale.get()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


class LazyString(LazyProxy):
    """Babel's lazy proxy of a message, for module-level labels: translated each time it
    is shown (no cache, so one label serves every request in its own locale). `message`
    is the msgid, for code that translates it into a locale other than the current one."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(gettext, message, enable_cache=False)
        # LazyProxy forwards attribute writes to the value: set the slot directly
        object.__setattr__(self, "message", message)


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


_l = lazy_gettext


def format_date(value: date | str | None, fmt: str = "medium") -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):  # a day kept in a JSON document
        value = date.fromisoformat(value)
    if isinstance(value, datetime):  # an instant: its date in the tenant's zone
        value = value.astimezone(ZoneInfo(_zone.get())).date()
    return _babel_format_date(value, format=fmt, locale=Locale.parse(_locale.get()))


def format_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC instant shown in the tenant's zone."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(_zone.get()))
    return _babel_format_datetime(local, format=fmt, locale=Locale.parse(_locale.get()))
