"""`helpline report` and `helpline import` as the operator types them."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.main import main
from bot.reports.periods import current_academic_year


@pytest.fixture
def env(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "helpline.db"
    shutil.copy(sqlite_template, db)
    config = tmp_path / "helpline.toml"
    config.write_text('languages = ["en"]\n')
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2026-02-30", "--to", "2026-03-01"], "--from '2026-02-30' is not a date"),
        (["--from", "2026-03-01", "--to", "March"], "--to 'March' is not a date"),
        (["--from", "2026-03-02", "--to", "2026-03-01"], "starts (2026-03-02) after it ends"),
    ],
)
def test_bad_dates_get_a_readable_error(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["report", *argv]) == 2
    assert message in capsys.readouterr().err


def test_import_then_report_as_csv_and_html(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    history = env / "old.csv"
    history.write_text(
        "date,category,actions,action_category,how_heard\n"
        "2025-10-06,SEN,2,SEN,School\n"
        "2025-10-07,Bullying,1,Bullying,\n"
    )
    assert main(["import", str(history)]) == 0
    captured = capsys.readouterr()
    assert "imported 2 historical case(s)" in captured.out
    assert "[##############################] 2/2" in captured.err

    out = env / "report.csv"
    assert (
        main(
            [
                "report",
                "--from",
                "2025-10-01",
                "--to",
                "2025-10-31",
                "--format",
                "csv",
                "--output",
                str(out),
            ]
        )
        == 0
    )
    text = out.read_text(encoding="utf-8")
    assert "Bullying,1,0" in text and "SEN,1,0" in text

    assert main(["report", "--from", "2025-10-01", "--to", "2025-10-31"]) == 0
    assert capsys.readouterr().out.count("<svg ") == 3


def test_a_bad_import_names_lines_and_imports_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = env / "bad.csv"
    bad.write_text(
        "date,category,actions,action_category,how_heard\n"
        "2025-10-06,SEN,2,SEN,School\n"
        "yesterday,SEN,2,SEN,School\n"
    )
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "1 bad row(s); nothing was imported" in err and "line 3: date 'yesterday'" in err
    assert main(["report", "--from", "2025-10-01", "--to", "2025-10-31", "--format", "md"]) == 0
    assert "| Total | 0 | 0 |" in capsys.readouterr().out
    assert main(["import", str(env / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (date(2026, 8, 31), date(2025, 9, 1)),
        (date(2026, 9, 1), date(2026, 9, 1)),
        (date(2027, 1, 15), date(2026, 9, 1)),
        (date(2027, 7, 31), date(2026, 9, 1)),
    ],
)
def test_the_academic_year_runs_september_to_july(today: date, first: date) -> None:
    assert current_academic_year(today) == (first, date(first.year + 1, 7, 31))


def test_no_dates_mean_this_academic_year_and_year_names_its_autumn(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(ZoneInfo("Europe/London")).date()
    first = today.year if today.month >= 9 else today.year - 1
    assert main(["report", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith(f"Report 01 Sep {first} – 31 Jul {first + 1}")
    assert main(["report", "--year", "2010", "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Report 01 Sep 2010 – 31 Jul 2011")
    assert "Cases 01 Sep 2009 – 31 Jul 2010" in text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--year", "2010", "--from", "2010-09-01"], "either --year or --from and --to"),
        (["--from", "2010-09-01"], "give both --from and --to"),
        (["--year", "1066"], "--year 1066 is not a year from 1990"),
    ],
)
def test_year_and_dates_that_do_not_fit_get_a_readable_error(
    env: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["report", *argv]) == 2
    assert message in capsys.readouterr().err
