"""Languages of documents: gettext catalogues read from .po at runtime, babel formats.

The catalogues are ``locales/<lang>/LC_MESSAGES/messages.po`` inside this package; they
are parsed with babel when first used (no compile step, nothing to build for the wheel).
English text is the message id, so ``en`` needs no translations; ``es`` must translate
every message (tested). Dates and money follow the language's locale: ``es`` is es_ES
(``1 de octubre de 2025``, ``1.234,56 €``), ``en`` is en_GB (``1 October 2025``,
``€1,234.56``).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations

from contractrules.errors import InputError, Issue

LOCALES = Path(__file__).resolve().parent / "locales"
LANGS = {"es": "es_ES", "en": "en_GB"}


def catalog_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


@cache
def translations(lang: str) -> Translations:
    with open(catalog_path(lang), "rb") as fh:
        catalog = read_po(fh, locale=LANGS[lang])
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


class Lang:
    """Text and formats of one language; pass to templates as ``L``."""

    def __init__(self, lang: str):
        if lang not in LANGS:
            raise InputError([Issue("<call>", None, "lang", f"must be one of {', '.join(LANGS)}, got {lang!r}")])
        self.code = lang
        self.locale = LANGS[lang]
        self.t = translations(lang)

    def gettext(self, text: str) -> str:
        return self.t.gettext(text)

    def ngettext(self, one: str, many: str, n: int) -> str:
        return self.t.ngettext(one, many, n)

    def date(self, day: dt.date | None, fmt: str = "long") -> str:
        return "—" if day is None else format_date(day, fmt, locale=self.locale)

    def short(self, day: dt.date | None) -> str:
        return "—" if day is None else format_date(day, "medium", locale=self.locale)

    def month(self, day: dt.date) -> str:
        return format_date(day, "MMM", locale=self.locale)

    def money(self, amount: Decimal | str | None, currency: str) -> str:
        if amount is None:
            return "—"
        return format_currency(Decimal(amount), currency, locale=self.locale)

    def number(self, value: Decimal | int, places: int = 0) -> str:
        q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        return format_decimal(q, format="#,##0" + ("." + "0" * places if places else ""), locale=self.locale)

    def rate(self, value: Decimal | str) -> str:
        return format_percent(
            Decimal(value), format="#,##0.##%" if self.code == "en" else "#,##0.## %", locale=self.locale
        )
