"""CI checks on the translation catalogs: fresh, complete, faithful to placeholders and plurals,
and never silently English. Also: the routine for adding a language works end to end."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.core import catalog_checks
from bot.core.catalog_checks import check_language, check_template, languages_in, review_status
from bot.core.i18n import LANGUAGE_NAMES, LOCALES, CatalogMissing, Catalogs
from bot.core.settings import DEFAULT_LANGUAGES, Settings

PYBABEL = str(Path(sys.executable).with_name("pybabel"))
COMMUNITY = [code for code in DEFAULT_LANGUAGES if code != "en"]


def test_the_template_matches_the_code() -> None:
    assert check_template() == []


def test_every_shipped_language_has_a_catalog_and_is_offered_by_default() -> None:
    assert languages_in() == sorted(COMMUNITY)
    assert set(DEFAULT_LANGUAGES) == set(LANGUAGE_NAMES)
    assert Settings().languages == DEFAULT_LANGUAGES
    assert Catalogs(Settings().languages).languages == DEFAULT_LANGUAGES


@pytest.mark.parametrize("language", COMMUNITY)
def test_catalog_is_complete_and_faithful(language: str) -> None:
    assert check_language(language) == []
    assert review_status(language) in {"no", "yes"} or review_status(language).startswith("yes")


@pytest.mark.parametrize("language", COMMUNITY)
def test_loaded_catalog_really_translates(language: str) -> None:
    translate = Catalogs([language]).gettext(language)
    assert translate("Who is asking?") != "Who is asking?"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    target.mkdir()
    shutil.copy(LOCALES / "messages.pot", target / "messages.pot")
    shutil.copytree(LOCALES / "pl", target / "pl")
    return target


def edit(directory: Path, language: str, msgid: str, **changes: object) -> None:
    path = directory / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    message = catalog[msgid]
    assert message is not None
    for name, value in changes.items():
        if name == "fuzzy":
            message.flags.add("fuzzy")
        else:
            setattr(message, name, value)
    with path.open("wb") as handle:
        write_po(handle, catalog)


@pytest.mark.parametrize(
    ("msgid", "change", "problem"),
    [
        ("Who is asking?", {"string": ""}, "untranslated"),
        ("Who is asking?", {"fuzzy": True}, "fuzzy"),
        ("Who is asking?", {"string": "Who is asking?"}, "left in English"),
        (
            "Shall we call you on {known_phone}?",
            {"string": "Zadzwonić na {phone}?"},
            "placeholders",
        ),
        ("Shall we call you on {known_phone}?", {"string": "Zadzwonić?"}, "placeholders"),
        ("Topic", {"string": "Temat %(name)s"}, "placeholders"),
    ],
)
def test_each_kind_of_bad_entry_is_caught(
    copy: Path, msgid: str, change: dict[str, object], problem: str
) -> None:
    edit(copy, "pl", msgid, **change)
    problems = check_language("pl", copy)
    assert any(problem in p and msgid in p for p in problems), problems


def test_a_wrong_number_of_plural_forms_is_caught(copy: Path) -> None:
    path = copy / "pl" / "LC_MESSAGES" / "messages.po"
    text = path.read_text(encoding="utf-8").replace("nplurals=3", "nplurals=2")
    path.write_text(text, encoding="utf-8")
    assert any("nplurals=2, expected 3" in p for p in check_language("pl", copy))
    path.write_text(
        text.replace("nplurals=2", "nplurals=3")
        + '\nmsgid "One day"\nmsgid_plural "{n} days"\nmsgstr[0] "Jeden dzień"\n'
        'msgstr[1] "{n} dni"\n',
        encoding="utf-8",
    )
    (copy / "messages.pot").write_text(
        (copy / "messages.pot").read_text(encoding="utf-8")
        + '\nmsgid "One day"\nmsgid_plural "{n} days"\nmsgstr[0] ""\nmsgstr[1] ""\n',
        encoding="utf-8",
    )
    assert any("2 plural forms, expected 3" in p for p in check_language("pl", copy))


def test_a_stale_catalog_is_caught(copy: Path, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "flows").mkdir(parents=True)
    (source / "flows" / "new.py").write_text('N_("A brand new question?")\n', encoding="utf-8")
    problems = check_template(copy, root=source)
    assert any("missing 'A brand new question?'" in p for p in problems)
    assert any("no longer used 'Who is asking?'" in p for p in problems)
    edit(copy, "pl", "Topic", string="Temat")  # still fine
    path = copy / "pl" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="pl")
    catalog.delete("Topic")
    with path.open("wb") as handle:
        write_po(handle, catalog)
    assert "pl: missing 'Topic' (run `make locales`)" in check_language("pl", copy)


def test_a_missing_compiled_catalog_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(CatalogMissing, match="no compiled catalog for 'pl'"):
        Catalogs(["en", "pl"], directory=tmp_path)
    with pytest.raises(CatalogMissing, match="not one the service ships"):
        Catalogs(["xx"], directory=tmp_path)


def test_adding_a_language_is_a_routine_that_works(
    copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/languages.md: add the code, pybabel init, translate, compile, check."""
    monkeypatch.setitem(LANGUAGE_NAMES, "fr", "Français")
    run = [PYBABEL, "init", "-i", str(copy / "messages.pot"), "-d", str(copy), "-l", "fr"]
    subprocess.run(run, check=True, capture_output=True)
    assert any("untranslated" in p for p in check_language("fr", copy))
    path = copy / "fr" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    catalog.header_comment = "# Français.\n# Reviewed by a native speaker: no"
    for message in catalog:
        if message.id:
            message.string = f"« {message.id} »"  # stands in for the translator's work
            message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog)
    assert check_language("fr", copy) == []
    subprocess.run(
        [PYBABEL, "compile", "-d", str(copy), "-l", "fr"], check=True, capture_output=True
    )
    catalogs = Catalogs(["fr"], directory=copy)
    assert catalogs.gettext("fr")("Topic") == "« Topic »"
    assert catalogs.names()["fr"] == "Français"
    assert catalog_checks.known_locale("fr") and not catalog_checks.known_locale("zz-nope")


def test_compiled_catalogs_are_built_not_committed() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.mo"], cwd=LOCALES.parent, capture_output=True, text=True, check=True
    )
    assert tracked.stdout == ""
    assert "*.mo" in (LOCALES.parent / ".gitignore").read_text(encoding="utf-8").split()
