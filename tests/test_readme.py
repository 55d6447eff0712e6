"""The README stays true: its two commands come first and its settings example loads."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.settings import load_settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    assert commands == ["make run", "make test"]


def test_the_settings_example_loads(tmp_path: Path) -> None:
    example = re.search(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert example is not None
    path = tmp_path / "helpline.toml"
    path.write_text(example.group(1), encoding="utf-8")
    settings = load_settings({"HELPLINE_CONFIG": str(path)})
    assert settings.service_name == "Anyshire SENDIASS"
    assert settings.nation == "ENG" and settings.working_day_hours == 8.0
    assert len(settings.closures) == 4
    assert settings.languages[0] == "en" and len(settings.languages) == 13
    assert settings.extra["retention"]["closed_years"] == 6
