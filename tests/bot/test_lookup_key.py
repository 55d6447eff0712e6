"""A changed look-up key is refused at start with a readable error, never silently used."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.main import main
from bot.core.keys import check_lookup_key, configure_keys, key_file
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.wiring import build_services
from storage import crypto
from storage.models import KeyCheck
from tests.conftest import TEST_ENCRYPTION_KEY, TEST_LOOKUP_KEY, FakeClock
from tests.parent import Parent


@pytest.fixture(autouse=True)
def test_keys_again() -> Iterator[None]:
    yield
    crypto.configure([TEST_ENCRYPTION_KEY], TEST_LOOKUP_KEY)  # the keys are process-wide


async def test_a_changed_lookup_key_stops_the_start_with_a_readable_error(
    services: Services, clock: FakeClock
) -> None:
    await services.migrate()  # the first start records the key's check value
    await Parent(services, "sms", "+447700900123").say("hello")
    changed = build_services(replace(services.settings, lookup_key="another-key"), now=clock)
    try:
        with pytest.raises(SettingsError, match="HELPLINE_LOOKUP_KEY is not the key"):
            await changed.migrate()
    finally:
        await changed.close()
    again = build_services(services.settings, now=clock)  # the right key still starts
    await again.migrate()
    await again.close()


async def test_a_store_from_before_the_check_is_checked_against_its_contacts(
    services: Services, clock: FakeClock
) -> None:
    await Parent(services, "sms", "+447700900123").say("hello")  # no check value stored yet
    changed = build_services(replace(services.settings, lookup_key="another-key"), now=clock)
    try:
        with pytest.raises(SettingsError, match="HELPLINE_LOOKUP_KEY"):
            await changed.migrate()
    finally:
        await changed.close()


def test_the_session_secret_is_never_the_lookup_key(tmp_path: Path) -> None:
    settings = replace(
        Settings(),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}",
        secret_key="the-session-secret",
        encryption_keys=(TEST_ENCRYPTION_KEY,),
    )
    configure_keys(settings)
    path = key_file(settings)
    assert path is not None and path.exists()  # the key file holds the look-up key
    crypto.configure([TEST_ENCRYPTION_KEY], "the-session-secret")
    with_secret = crypto.lookup_hash("+447700900123")
    configure_keys(settings)
    assert crypto.lookup_hash("+447700900123") != with_secret


def test_the_cli_says_so_in_one_line(
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HELPLINE_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("HELPLINE_LOOKUP_KEY", TEST_LOOKUP_KEY)
    assert main(["db", "upgrade"]) == 0
    monkeypatch.setenv("HELPLINE_LOOKUP_KEY", "another-key")
    assert main(["export", "--phone", "07700 900123"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("helpline: HELPLINE_LOOKUP_KEY is not the key")
    assert "Traceback" not in error


async def test_processes_started_together_record_one_check_value_and_all_start(
    settings: Settings, clock: FakeClock
) -> None:
    """Workers started at once on a new store all find no check value, and all record it."""
    together = [build_services(settings, now=clock) for _ in range(3)]
    try:
        await asyncio.gather(*(check_lookup_key(s.sessions, clock()) for s in together))
        async with together[0].sessions() as session:
            recorded = await session.scalar(select(func.count()).select_from(KeyCheck))
    finally:
        for services in together:
            await services.close()
    assert recorded == 1
