"""/readyz: ready only with the database up, the schema at head, a scheduler leading and the
outbox draining; each failure named in a 503. /healthz stays a liveness check."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from bot.core.services import Services
from bot.jobs.leadership import FileLeadership, PostgresLeadership
from bot.web.app import create_app
from bot.web.health import migration_head
from bot.wiring import build_services
from storage import jobruns, outbox
from tests.conftest import FakeClock, test_settings


@pytest.fixture
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(services.settings, services=services, migrate=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def readiness(http: httpx.AsyncClient) -> tuple[int, list[str]]:
    response = await http.get("/readyz")
    return response.status_code, response.json().get("reasons", [])


async def a_scheduler_leads(services: Services) -> PostgresLeadership | None:
    """PostgreSQL: hold the advisory lock as a scheduler would; SQLite: a job just succeeded."""
    async with services.sessions.begin() as session:
        await jobruns.succeeded(session, "sla-sweep", services.now())
    if services.settings.is_sqlite:
        return None
    leader = PostgresLeadership(services.settings.database_url)
    assert await leader.acquire()
    return leader


async def test_ready_then_each_reason_for_not(
    http: httpx.AsyncClient, services: Services, clock: FakeClock
) -> None:
    status, reasons = await readiness(http)
    assert status == 503 and reasons == ["no scheduler leads (start `helpline scheduler`)"]
    leader = await a_scheduler_leads(services)
    try:
        assert await readiness(http) == (200, [])
        assert (await http.get("/healthz")).status_code == 200

        async with services.sessions.begin() as session:
            outbox.enqueue(
                session,
                channel="sms",
                address="+447700900123",
                kind="reply",
                payload={"text": "hello"},
                now=clock(),
            )
        clock.advance(minutes=14)
        if leader is None:  # the SQLite leader shows itself by fresh job successes
            await a_scheduler_leads(services)
        assert (await readiness(http))[0] == 200
        clock.advance(minutes=2)
        if leader is None:
            await a_scheduler_leads(services)
        status, reasons = await readiness(http)
        assert status == 503 and reasons == ["outbox not draining: oldest due row waiting 16 min"]
        async with services.sessions.begin() as session:
            await session.execute(text("UPDATE outbox SET status = 'sent'"))
            await session.execute(text("UPDATE alembic_version SET version_num = '0008'"))
        status, reasons = await readiness(http)
        head = migration_head(services.settings)
        assert status == 503 and reasons[0].startswith(f"schema at 0008, code expects {head}")
    finally:
        if leader is not None:
            await leader.release()
    async with services.sessions.begin() as session:
        await session.execute(
            text("UPDATE alembic_version SET version_num = :head"),
            {"head": migration_head(services.settings)},
        )
    if leader is not None:
        status, reasons = await readiness(http)
        assert reasons == ["no scheduler leads (start `helpline scheduler`)"]
    else:
        clock.advance(minutes=3)
        status, reasons = await readiness(http)
        assert reasons == ["no scheduler leads (start `helpline scheduler`)"]
    assert status == 503


async def test_not_ready_until_migrated(tmp_path: Path, clock: FakeClock) -> None:
    fresh = build_services(test_settings(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"), now=clock)
    app = create_app(fresh.settings, services=fresh, migrate=False)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            status, reasons = await readiness(client)
    finally:
        await fresh.close()
    assert status == 503
    assert reasons == ["database not migrated (run `helpline db upgrade`)"]


async def test_on_sqlite_the_lock_file_shows_the_leader(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}"
    local = build_services(test_settings(url), now=clock)
    await local.migrate()
    app = create_app(local.settings, services=local, migrate=False)
    leader = FileLeadership(url)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client:
            assert (await readiness(client))[0] == 503
            assert await leader.acquire()
            assert await readiness(client) == (200, [])
            await leader.release()
            assert (await readiness(client))[0] == 503
    finally:
        await leader.release()
        await local.close()
