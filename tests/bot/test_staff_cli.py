"""`helpline staff` and `helpline rota` as an operator runs them: exit codes and readable errors."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli.main import main
from bot.core.settings import load_settings
from bot.domain.passwords import hash_password, needs_rehash, verify_password
from bot.wiring import build_services
from storage.models import RotaDay, RotaOverride, Staff
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_LOOKUP_KEY

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cli(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):  # type: ignore[no-untyped-def]
    config = tmp_path / "helpline.toml"
    config.write_text('languages = ["en"]\n')
    monkeypatch.setenv("HELPLINE_DATABASE_URL", db_url)
    monkeypatch.setenv("HELPLINE_CONFIG", str(config))
    monkeypatch.setenv("HELPLINE_ENCRYPTION_KEYS", TEST_ENCRYPTION_KEY)
    monkeypatch.setenv("HELPLINE_LOOKUP_KEY", TEST_LOOKUP_KEY)

    async def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = await asyncio.to_thread(main, list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def _staff(email: str) -> Staff:
    services = build_services(load_settings())
    try:
        async with services.sessions() as session:
            staff = await session.scalar(select(Staff).where(Staff.email == email))
            assert staff is not None
            return staff
    finally:
        await services.close()


async def test_staff_add_list_disable(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = await cli(
        "staff", "add", "Claire.White@Council.gov.uk", "--name", "Claire White",
        "--role", "officer", "--telegram-chat-id", "1001", "--languages", "en,pl",
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert code == 0 and "added officer claire.white@council.gov.uk" in out
    staff = await _staff("claire.white@council.gov.uk")
    assert staff.password_hash and staff.password_hash.startswith("$argon2id$")
    assert verify_password(staff.password_hash, PASSWORD)
    assert (staff.telegram_chat_id, staff.languages, staff.active) == ("1001", "en,pl", True)

    code, _, err = await cli(
        "staff", "add", "claire.white@council.gov.uk", "--name", "C", "--role", "officer",
        stdin=PASSWORD,
    )  # fmt: skip
    assert code == 2 and "already exists" in err
    code, _, err = await cli(
        "staff", "add", "sue@council.gov.uk", "--name", "Sue", "--role", "manager", stdin="short"
    )
    assert code == 2 and "at least 10 characters" in err
    code, _, err = await cli(
        "staff", "add", "sue@council.gov.uk", "--name", "Sue", "--role", "manager", stdin=""
    )
    assert code == 2 and "no password" in err
    code, _, err = await cli("staff", "add", "not-an-email", "--name", "X", "--role", "admin")
    assert code == 2 and "is not an email address" in err
    code, _, err = await cli(
        "staff", "add", "x@council.gov.uk", "--name", "X", "--role", "admin", "--languages", "xx"
    )
    assert code == 2 and "unknown language xx" in err

    code, out, _ = await cli("staff", "list")
    assert code == 0 and "claire.white@council.gov.uk" in out and "telegram" in out

    version = (await _staff("claire.white@council.gov.uk")).session_version
    code, out, _ = await cli("staff", "disable", "claire.white@council.gov.uk")
    assert code == 0 and "disabled" in out
    staff = await _staff("claire.white@council.gov.uk")
    assert not staff.active and staff.session_version == version + 1
    code, _, err = await cli("staff", "disable", "nobody@council.gov.uk")
    assert code == 2 and "no staff member with email nobody@council.gov.uk" in err


async def test_rota_set_and_show(cli) -> None:  # type: ignore[no-untyped-def]
    for email, role in (("claire@council.gov.uk", "officer"), ("tom@council.gov.uk", "officer")):
        code, _, _ = await cli(
            "staff", "add", email, "--name", email[:4].title(), "--role", role, stdin=PASSWORD
        )
        assert code == 0
    assert (await cli("rota", "set", "monday", "claire@council.gov.uk"))[0] == 0
    assert (await cli("rota", "set", "Tue", "tom@council.gov.uk"))[0] == 0
    code, out, _ = await cli("rota", "set", "wednesday", "--nobody")
    assert code == 0 and "nobody on duty" in out
    assert (await cli("rota", "set", "2031-06-03", "claire@council.gov.uk"))[0] == 0
    assert (await cli("rota", "set", "2031-06-03", "--clear"))[0] == 0
    assert (await cli("rota", "set", "2031-06-10", "--nobody"))[0] == 0

    services = build_services(load_settings())
    try:
        async with services.sessions() as session:
            pattern = {r.weekday: r.staff_id for r in await session.scalars(select(RotaDay))}
            overrides = {
                r.day.isoformat(): r.staff_id for r in await session.scalars(select(RotaOverride))
            }
    finally:
        await services.close()
    assert pattern[2] is None and pattern[0] and pattern[1] and pattern[0] != pattern[1]
    assert overrides == {"2031-06-10": None}

    for argv, message in [
        (("rota", "set", "funday", "claire@council.gov.uk"), "'funday' is not a day"),
        (("rota", "set", "monday", "who@council.gov.uk"), "no staff member with email"),
        (("rota", "set", "saturday", "claire@council.gov.uk"), "closed on Saturdays"),
        (
            ("rota", "set", "2031-12-25", "claire@council.gov.uk"),
            "not a working day (bank holiday)",
        ),
        (("rota", "set", "2020-01-06", "claire@council.gov.uk"), "is in the past"),
        (("rota", "set", "monday"), "give exactly one of EMAIL, --nobody or --clear"),
        (("rota", "set", "monday", "--clear"), "--clear removes a dated override"),
    ]:
        code, _, err = await cli(*argv)
        assert code == 2 and message in err, (argv, err)
    assert (await cli("staff", "disable", "tom@council.gov.uk"))[0] == 0
    code, _, err = await cli("rota", "set", "friday", "tom@council.gov.uk")
    assert code == 2 and "tom@council.gov.uk is disabled" in err

    code, out, _ = await cli("rota", "show")
    assert code == 0
    assert "Monday     Clai <claire@council.gov.uk>" in out
    assert "Tuesday    Tom@ <tom@council.gov.uk>  (DISABLED)" in out
    assert "Wednesday  nobody" in out
    assert out.count("\n  20") == 14  # the next fourteen days, each working or closed


async def test_digest_dry_run_prints_without_sending(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = await cli("digest", "--dry-run")
    assert code == 0 and out.startswith("Helpline digest ") and "Overdue (0)" in out
    code, _, err = await cli("digest")
    assert code == 2 and "no active manager" in err


def test_passwords_are_argon2id_and_a_wrong_one_never_matches() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and not needs_rehash(stored)
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "!")
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
