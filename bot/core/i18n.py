"""Gettext catalogs for the community languages, and dates written the way each locale writes them.

A configured language whose compiled catalog is missing fails loudly at start: silently falling
back to English would leave a Polish parent reading English at 9pm.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterable
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names

LOCALES = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"

LANGUAGE_NAMES = {
    "en": "English",
    "cy": "Cymraeg",
    "pl": "Polski",
    "ro": "Română",
    "pa": "ਪੰਜਾਬੀ",
    "ur": "اردو",
    "pt": "Português",
    "es": "Español",
    "ar": "العربية",
    "bn": "বাংলা",
    "gu": "ગુજરાતી",
    "so": "Soomaali",
    "uk": "Українська",
}
RIGHT_TO_LEFT = frozenset({"ur", "ar"})
BCP47 = {"pa": "pa-Guru"}


class CatalogMissing(RuntimeError):
    """A configured language has no compiled catalog (run `make locales`)."""


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"


def bcp47(language: str) -> str:
    """The tag reports and `queue --json` show (Punjabi is written in Gurmukhi here)."""
    return BCP47.get(language, language)


class Catalogs:
    """The loaded translations of every offered language, looked up per conversation."""

    def __init__(self, languages: Iterable[str], directory: Path = LOCALES) -> None:
        self.languages = tuple(dict.fromkeys(["en", *languages]))
        self._translations: dict[str, gettext.NullTranslations] = {"en": gettext.NullTranslations()}
        for language in self.languages:
            if language == "en":
                continue
            if language not in LANGUAGE_NAMES:
                raise CatalogMissing(f"language {language!r} is not one the service ships")
            try:
                self._translations[language] = gettext.translation(
                    DOMAIN, localedir=directory, languages=[language]
                )
            except FileNotFoundError:
                raise CatalogMissing(
                    f"no compiled catalog for {language!r} in {directory} (run `make locales`)"
                ) from None

    def names(self) -> dict[str, str]:
        """Each offered language named in itself, English first."""
        return {code: LANGUAGE_NAMES[code] for code in self.languages}

    def gettext(self, language: str | None) -> Callable[[str], str]:
        translations = self._translations.get(language or "en", self._translations["en"])
        return translations.gettext


def babel_locale(language: str) -> str:
    return {"pa": "pa_Guru"}.get(language, language)


# How each locale writes "Tuesday 24 November" inside a sentence, where it differs from
# "EEEE d MMMM": Spanish and Portuguese say "24 de noviembre"; Welsh writes "dydd" in lower
# case mid-sentence. The translated confirmation places {time} and {date} in its own order.
DATE_PATTERNS = {"es": "EEEE d 'de' MMMM", "pt": "EEEE, d 'de' MMMM"}
LOWER_FIRST = frozenset({"cy"})


def due_parts(due_at: datetime, language: str, timezone: str) -> dict[str, str]:
    """`{time}` and `{date}` of a promised callback, in the locale's own words."""
    local = due_at.astimezone(ZoneInfo(timezone))
    locale = babel_locale(language)
    day = format_date(local.date(), DATE_PATTERNS.get(language, "EEEE d MMMM"), locale=locale)
    if language in LOWER_FIRST:
        day = day[:1].lower() + day[1:]
    return {"time": format_time(local, "HH:mm", locale=locale), "date": day}


def office_hours(language: str, opens: time, closes: time, weekdays: Iterable[int]) -> str:
    """ "Monday–Friday, 09:00–17:00" in the locale's own day names."""
    days = sorted(weekdays)
    names = get_day_names("wide", locale=babel_locale(language))
    span = f"{names[days[0]]}–{names[days[-1]]}" if len(days) > 1 else names[days[0]]
    return f"{span}, {opens:%H:%M}–{closes:%H:%M}"
