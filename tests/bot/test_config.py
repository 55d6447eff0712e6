"""Settings: a bad value stops the service with one line that names it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings import SettingsError, database_url, load_settings


def _toml(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "helpline.toml"
    path.write_text(text, encoding="utf-8")
    return {"HELPLINE_CONFIG": str(path)}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('working_day_hours = "eight"', "working_day_hours"),
        ('idle_hours = "a day"', "idle_hours"),
        ('opens = "nine"', "opens"),
        ('nation = "FRA"', "nation"),
        ('closures = ["2026-13-01"]', "closures"),
        ("colour = 3", "colour"),
        ('opens = "17:00"\ncloses = "09:00"', "opens/closes"),
    ],
)
def test_a_bad_setting_is_named(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(_toml(tmp_path, text))


def test_the_urls_people_write_map_to_the_async_drivers() -> None:
    assert database_url("sqlite:///helpline.db") == "sqlite+aiosqlite:///helpline.db"
    assert database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    with pytest.raises(SettingsError, match="HELPLINE_DATABASE_URL"):
        database_url("mysql://u@h/db")


def test_numbers_are_cast_and_english_comes_first(tmp_path: Path) -> None:
    settings = load_settings(
        _toml(tmp_path, 'working_day_hours = "7.5"\nidle_hours = 12\nlanguages = ["pl", "en"]')
    )
    assert settings.working_day_hours == 7.5 and settings.idle_hours == 12
    assert settings.languages == ("en", "pl")
