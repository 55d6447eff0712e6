"""The rota and staff pages write through bot.domain.rota and bot.domain.staff (as the CLI)."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select, update

from bot.core.services import Services
from bot.domain.passwords import MIN_LENGTH
from storage.models import AuditEntry, RotaDay, RotaOverride, Staff
from tests.bot.dashboard.helpers import add_staff, sign_in


async def _written(services: Services) -> tuple[int, int, int]:
    async with services.sessions() as session:
        days = await session.scalar(select(func.count()).select_from(RotaDay))
        overrides = await session.scalar(select(func.count()).select_from(RotaOverride))
        audited = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("rota%"))
        )
    return days or 0, overrides or 0, audited or 0


async def test_the_rota_page_refuses_what_cannot_be_on_duty(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "mo@example.org", "manager")
    olu = await add_staff(services, "olu@example.org")
    gone = await add_staff(services, "gone@example.org")
    async with services.sessions.begin() as session:
        await session.execute(update(Staff).where(Staff.id == gone.id).values(active=False))
    csrf = await sign_in(client, "mo@example.org")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}

    refusals = [
        ("/staff/rota/overrides", {"day": "2026-11-24", "staff": str(gone.id)}, "is disabled"),
        ("/staff/rota/overrides", {"day": "2026-11-20", "staff": str(olu.id)}, "in the past"),
        ("/staff/rota/overrides", {"day": "2026-11-24", "staff": "9999"}, "no staff member"),
        ("/staff/rota/overrides", {"day": "2026-11-28", "staff": str(olu.id)}, "not a working"),
        ("/staff/rota/overrides", {"day": "2026-11-20", "remove": "1"}, "in the past"),
        # Monday is fine, Tuesday is not: nothing at all is written.
        ("/staff/rota/pattern", {"day0": str(olu.id), "day1": str(gone.id)}, "is disabled"),
        ("/staff/rota/pattern", {"day0": str(olu.id), "day1": "9999"}, "no staff member"),
    ]
    for path, data, reason in refusals:
        answer = await client.post(path, data=data, headers=headers)
        assert 400 <= answer.status_code < 500 and reason in answer.text, (data, answer.text)
    assert await _written(services) == (0, 0, 0)

    ok = await client.post(
        "/staff/rota/overrides", data={"day": "2026-11-24", "staff": str(olu.id)}, headers=headers
    )
    assert ok.status_code == 200 and ok.headers["HX-Redirect"] == "/staff/rota?done=override"
    ok = await client.post("/staff/rota/pattern", data={"day0": str(olu.id)}, headers=headers)
    assert ok.status_code == 200
    async with services.sessions() as session:
        pattern = {r.weekday: r.staff_id for r in await session.scalars(select(RotaDay))}
        override = await session.get(RotaOverride, date(2026, 11, 24))
    assert pattern[0] == olu.id and override is not None and override.staff_id == olu.id
    page = await client.get("/staff/rota")
    assert page.status_code == 200 and "Olu" in page.text


async def test_adding_staff_follows_the_cli_rules(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "ada@example.org", "admin")
    csrf = await sign_in(client, "ada@example.org")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    page = await client.get("/staff/admin/staff")
    assert f'minlength="{MIN_LENGTH}"' in page.text
    person = {"email": " Bea@Example.org ", "name": "Bea", "role": "manager"}
    for data, reason in [
        ({**person, "password": "short"}, f"at least {MIN_LENGTH} characters"),
        ({**person, "email": "bea@example", "password": "p" * 20}, "Give an email address"),
        ({**person, "role": "boss", "password": "p" * 20}, "Give an email address"),
        ({**person, "password": "p" * MIN_LENGTH}, "less guessable"),  # zxcvbn's verdict
        ({**person, "password": "Password123!"}, "less guessable"),
    ]:
        answer = await client.post("/staff/admin/staff", data=data, headers=headers)
        assert answer.status_code == 422 and reason in answer.text, answer.text
    added = await client.post(
        "/staff/admin/staff",
        data={**person, "password": "violet kettle sunrise 84"},
        headers=headers,
    )
    assert added.status_code == 200
    async with services.sessions() as session:
        emails = set(await session.scalars(select(Staff.email)))
    assert emails == {"ada@example.org", "bea@example.org"}
    again = await client.post(
        "/staff/admin/staff",
        data={**person, "email": "BEA@example.org", "password": "violet kettle sunrise 84"},
        headers=headers,
    )
    assert again.status_code == 422 and "already an account" in again.text


async def test_an_admin_sets_an_officers_phone_for_calls(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "ada@example.org", "admin")
    olu = await add_staff(services, "olu@example.org")
    csrf = await sign_in(client, "ada@example.org")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    url = f"/staff/admin/staff/{olu.id}"
    wrong = await client.post(
        url, data={"change": "phone", "phone": "not a number"}, headers=headers
    )
    assert wrong.status_code == 422 and "is not a phone number" in wrong.text
    saved = await client.post(
        url, data={"change": "phone", "phone": "0770 090 0555"}, headers=headers
    )
    assert saved.status_code == 200 and "+447700900555" in saved.text
    async with services.sessions() as session:
        person = await session.get(Staff, olu.id)
        assert person is not None and person.phone == "+447700900555"
        assert person.session_version == olu.session_version  # not signed out for a phone
        actions = list(await session.scalars(select(AuditEntry.detail)))
    assert f"staff #{olu.id}: phone" in actions
    page = await client.get("/staff/admin/staff")
    assert 'value="+447700900555"' in page.text
