"""The storage contract, run on SQLite and on the real PostgreSQL alike."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.core.services import Services
from bot.delivery.worker import LEASE
from storage import inbox, outbox
from storage.db import downgrade, make_engine, upgrade
from storage.models import Contact, Enquiry, OutboxMessage
from tests.conftest import in_thread

NOW = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks go forward


async def test_times_round_trip_as_aware_utc(services: Services) -> None:
    plus_one = timezone(timedelta(hours=1))
    async with services.sessions.begin() as session:
        session.add(
            Contact(
                channel="sms",
                address="+447700900123",
                created_at=datetime(2026, 3, 29, 2, 30, tzinfo=plus_one),
                last_seen_at=NOW,
                opted_out=False,
                unreachable=False,
            )
        )
    async with services.sessions() as session:
        contact = (await session.scalars(select(Contact))).one()
    assert contact.created_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert contact.created_at.utcoffset() == timedelta(0)
    assert contact.last_seen_at == NOW


async def test_naive_times_are_refused(services: Services) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with services.sessions.begin() as session:
            session.add(
                Contact(
                    channel="sms",
                    address="x",
                    created_at=datetime(2026, 1, 1),
                    last_seen_at=NOW,
                    opted_out=False,
                    unreachable=False,
                )
            )


async def test_inbox_takes_each_provider_id_once(services: Services) -> None:
    async def record(provider_id: str, channel: str = "sms") -> int | None:
        async with services.sessions.begin() as session:
            return await inbox.record_inbound(
                session,
                channel=channel,
                provider_id=provider_id,
                address="+447700900123",
                payload={"text": "hi"},
                received_at=NOW,
            )

    first = await record("SM1")
    assert first is not None
    assert await record("SM1") is None
    other = await record("SM1", channel="telegram")
    assert other is not None
    async with services.sessions() as session:
        assert [row.id for row in await inbox.unprocessed(session)] == [first, other]


async def test_outbox_rows_are_claimed_once(services: Services) -> None:
    async with services.sessions.begin() as session:
        for n in range(3):
            outbox.enqueue(
                session,
                channel="sms",
                address=f"+4477009001{n:02}",
                kind="survey",
                payload={},
                now=NOW,
            )
        outbox.enqueue(
            session,
            channel="sms",
            address="later",
            kind="survey",
            payload={},
            now=NOW,
            send_after=NOW + timedelta(hours=1),
        )
    async with services.sessions() as session:
        first = await outbox.due(session, NOW, {"sms"})
    assert len(first) == 3  # the later one is not due
    for row in first:
        async with services.sessions.begin() as session:
            assert await outbox.claim(session, row.id, NOW)
        async with services.sessions.begin() as session:
            assert not await outbox.claim(session, row.id, NOW)  # once only
    async with services.sessions() as session:
        assert await outbox.due(session, NOW, {"sms"}) == []
    async with services.sessions.begin() as session:
        await outbox.mark(session, first[0].id, status="sent", now=NOW, provider_message_id="SMx")
        await outbox.mark(
            session, first[1].id, status="failed", now=NOW, retry_at=NOW + timedelta(minutes=1)
        )
    async with services.sessions() as session:
        retried = await outbox.due(session, NOW + timedelta(minutes=2), {"sms"})
    assert [row.id for row in retried] == [first[1].id]
    async with services.sessions.begin() as session:  # the third was left `sending` by a crash
        assert await outbox.release_stale(session, NOW + timedelta(minutes=2), LEASE) == 0
        assert await outbox.release_stale(session, NOW + timedelta(minutes=3), LEASE) == 1
    async with services.sessions() as session:
        sent = await session.get(OutboxMessage, first[0].id)
    assert sent is not None and sent.sent_at == NOW and sent.provider_message_id == "SMx"


async def test_references_are_unique(services: Services) -> None:
    def enquiry() -> Enquiry:
        return Enquiry(
            reference="PP-ABCDEF",
            channel="sms",
            language="en",
            received_at=NOW,
            urgent=False,
            incomplete=False,
            status="open",
            legal_hold=False,
            answers={},
        )

    async with services.sessions.begin() as session:
        session.add(enquiry())
    with pytest.raises(IntegrityError):
        async with services.sessions.begin() as session:
            session.add(enquiry())


async def test_migrations_go_down_and_up_again(services: Services) -> None:
    url = services.settings.database_url
    await services.engine.dispose()
    in_thread(downgrade, url, "base")
    in_thread(upgrade, url)
    async with services.sessions() as session:
        version = await session.scalar(text("SELECT version_num FROM alembic_version"))
    assert version is not None


async def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path, sqlite_template: Path) -> None:
    path = tmp_path / "wal.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect() as connection:
        assert (await connection.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await connection.scalar(text("PRAGMA foreign_keys"))) == 1
        assert (await connection.scalar(text("PRAGMA synchronous"))) == 2
        assert (await connection.scalar(text("PRAGMA busy_timeout"))) == 10000
    await engine.dispose()
