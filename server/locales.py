"""The Babel locale of each of Følge's languages.

The catalogs are nb, nn and en (translations/). Dates and times follow the locale:
English is British English (en_GB: "1 December 2026", "01/12/2026"), not US style.
gettext finds the "en" catalog for en_GB by falling back to the language.
"""

from __future__ import annotations

BABEL_LOCALES = {"nb": "nb", "nn": "nn", "en": "en_GB"}


def babel_locale(language: str | None) -> str:
    """The locale to format and translate in for a language code (Bokmål when unknown)."""
    return BABEL_LOCALES.get(language or "nb", "nb")


#: A date without the year, per language: "10. desember", "10 December".
_DAY_MONTH = {"nb": "d. MMMM", "nn": "d. MMMM", "en": "d MMMM"}


def day_month(value: object) -> str:
    """A date or datetime as day and month in the current language (Oslo time)."""
    from flask_babel import format_date, get_locale

    language = getattr(get_locale(), "language", None) or "nb"
    return format_date(value, _DAY_MONTH.get(language, _DAY_MONTH["nb"]))
