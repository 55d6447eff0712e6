"""A password hashed with weaker parameters than today's is rehashed when its owner signs in."""

from __future__ import annotations

import httpx
from argon2 import PasswordHasher
from sqlalchemy import update

from bot.core.services import Services
from bot.domain.passwords import needs_rehash, verify_password
from storage.models import Staff
from tests.bot.dashboard.helpers import PASSWORD, add_staff, sign_in


async def test_an_old_hash_is_replaced_at_sign_in(
    services: Services, client: httpx.AsyncClient
) -> None:
    officer = await add_staff(services, "olu@example.org")
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert needs_rehash(old)
    async with services.sessions.begin() as session:
        await session.execute(update(Staff).where(Staff.id == officer.id).values(password_hash=old))
    await sign_in(client, "olu@example.org")
    async with services.sessions() as session:
        stored = (await session.get(Staff, officer.id)).password_hash  # type: ignore[union-attr]
    assert stored and stored != old and not needs_rehash(stored)
    assert verify_password(stored, PASSWORD)
