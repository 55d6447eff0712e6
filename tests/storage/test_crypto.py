"""Encryption at rest: ciphertext in the tables, key rotation, legacy rows, the local key file."""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from bot.cli.keys import rotate
from bot.core.keys import key_file, local_key_notice
from bot.core.services import Services
from bot.core.settings import Settings, SettingsError, load_settings
from bot.wiring import build_services
from storage import crypto
from storage.db import downgrade, upgrade
from storage.models import Contact, Enquiry, InboxMessage, TranscriptLine
from tests.conftest import FakeClock, in_thread
from tests.parent import ANSWERS, Parent

PHONE = "+447700900123"
DESCRIPTION = ANSWERS[6]


async def raw(services: Services, sql: str) -> list[tuple[object, ...]]:
    async with services.sessions() as session:
        return [tuple(row) for row in (await session.execute(text(sql))).all()]


async def test_a_raw_read_shows_ciphertext_not_the_number_or_the_words(
    services: Services,
) -> None:
    await Parent(services, channel="sms", address=PHONE).complete()
    cells = [
        *await raw(services, "SELECT address, address_hash FROM contact"),
        *await raw(services, "SELECT description, callback_phone, answers FROM enquiry"),
        *await raw(services, "SELECT text FROM transcript"),
        *await raw(services, "SELECT address, payload, replies FROM inbox"),
    ]
    dump = json.dumps(cells, default=str)
    for secret in (PHONE, "7700900123", "07700 900123", DESCRIPTION, "Year 4"):
        assert secret not in dump
    [(address, address_hash)] = await raw(services, "SELECT address, address_hash FROM contact")
    assert str(address).startswith(crypto.TOKEN_PREFIX) and len(str(address_hash)) == 64
    async with services.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
    assert enquiry.description == DESCRIPTION and enquiry.callback_phone == PHONE


async def test_rotation_keeps_old_records_readable(settings: Settings, clock: FakeClock) -> None:
    old, new = settings.encryption_keys[0], Fernet.generate_key().decode()
    first = build_services(settings, now=clock)
    parent = Parent(first, channel="sms", address=PHONE)
    await parent.complete()
    await first.close()

    both = build_services(replace(settings, encryption_keys=(new, old)), now=clock)
    async with both.sessions() as session:
        assert (await session.scalars(select(Enquiry))).one().description == DESCRIPTION
    assert await rotate(both, argparse.Namespace()) == 0
    await both.close()

    only_new = build_services(replace(settings, encryption_keys=(new,)), now=clock)
    async with only_new.sessions() as session:
        enquiry = (await session.scalars(select(Enquiry))).one()
        lines = list(await session.scalars(select(TranscriptLine.text)))
        inbox = list(await session.scalars(select(InboxMessage.payload)))
    assert enquiry.description == DESCRIPTION and enquiry.callback_phone == PHONE
    assert DESCRIPTION in lines and any(p.get("text") == DESCRIPTION for p in inbox)
    # The same parent writes again: found by the hash, not a second contact.
    await Parent(only_new, channel="sms", address=PHONE).say("hello again")
    async with only_new.sessions() as session:
        assert len((await session.scalars(select(Contact))).all()) == 1
    await only_new.close()

    stale = build_services(replace(settings, encryption_keys=(old,)), now=clock)
    with pytest.raises(crypto.UnreadableValue):
        async with stale.sessions() as session:
            (await session.scalars(select(Enquiry))).one()
    await stale.close()


async def test_a_new_lookup_key_is_applied_by_rotation(
    settings: Settings, clock: FakeClock
) -> None:
    first = build_services(settings, now=clock)
    await Parent(first, channel="sms", address=PHONE).say("hello")
    await first.close()
    moved = build_services(replace(settings, lookup_key="another lookup key"), now=clock)
    await rotate(moved, argparse.Namespace())
    async with moved.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert contact.address_hash == crypto.lookup_hash(PHONE)
    await moved.close()


async def test_the_upgrade_encrypts_rows_written_before_encryption(services: Services) -> None:
    await Parent(services, channel="sms", address=PHONE).complete()
    url = services.settings.database_url
    await services.engine.dispose()
    in_thread(downgrade, url, "0006")
    await services.engine.dispose()
    plain = json.dumps(await raw(services, "SELECT description, callback_phone FROM enquiry"))
    assert DESCRIPTION in plain and PHONE in plain
    in_thread(upgrade, url)
    await services.engine.dispose()
    sealed = json.dumps(await raw(services, "SELECT description, callback_phone FROM enquiry"))
    assert DESCRIPTION not in sealed and PHONE not in sealed
    replies = await Parent(services, channel="sms", address=PHONE).say("hello again")
    assert replies
    async with services.sessions() as session:
        assert len((await session.scalars(select(Contact))).all()) == 1
        assert (await session.scalars(select(Enquiry))).one().description == DESCRIPTION


def test_sqlite_without_keys_makes_a_private_key_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    settings = replace(Settings(), database_url=url, languages=("en",))
    with caplog.at_level(logging.WARNING):
        build_services(settings)
    path = key_file(settings)
    assert path == tmp_path / "h.db.keys" and oct(path.stat().st_mode & 0o777) == "0o600"
    assert not caplog.records  # said once, by `serve`, not by every command that starts
    notice = local_key_notice(settings)
    assert notice is not None and str(path) in notice
    first = crypto.encrypt("x")
    build_services(settings)  # the second start reads the same file
    assert crypto.decrypt(first) == "x"


def test_postgresql_without_keys_refuses_to_start() -> None:
    settings = load_settings({"HELPLINE_DATABASE_URL": "postgresql://db.example/helpline"})
    with pytest.raises(SettingsError, match="HELPLINE_ENCRYPTION_KEYS"):
        build_services(settings)
    with_keys = replace(settings, encryption_keys=(Fernet.generate_key().decode(),))
    with pytest.raises(SettingsError, match="HELPLINE_LOOKUP_KEY"):
        build_services(with_keys)
    with pytest.raises(SettingsError, match="32 url-safe"):
        build_services(replace(with_keys, encryption_keys=("not a key",), lookup_key="k"))


def test_keys_come_from_the_environment_newest_first() -> None:
    settings = load_settings(
        {"HELPLINE_ENCRYPTION_KEYS": " new= , old= ", "HELPLINE_LOOKUP_KEY": "look"}
    )
    assert settings.encryption_keys == ("new=", "old=") and settings.lookup_key == "look"
