"""Telling the service's admins that the machinery is in trouble (a provider's webhook failing,
a Twilio error), at once and at most once an hour per trouble: an outage must not flood them."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.settings import Settings
from bot.domain.alerts import simple, to_staff
from storage.models import OutboxMessage, Staff

log = logging.getLogger(__name__)
QUIET_FOR = timedelta(hours=1)


async def admins(session: AsyncSession) -> list[Staff]:
    statement = select(Staff).where(Staff.role == "admin", Staff.active.is_(True))
    return list(await session.scalars(statement.order_by(Staff.id)))


async def alert_admins(
    session: AsyncSession,
    settings: Settings,
    kind: str,
    subject: str,
    lines: list[str],
    now: datetime,
) -> int:
    """Queue `subject` to every admin unless the same `kind` was queued in the last hour.

    `kind` names the trouble (e.g. "ops:telegram_pending"), so different troubles each get
    through; the lines carry codes and counts only, never a parent's number or words.
    """
    log.warning("provider trouble: %s", subject)
    recent = exists().where(OutboxMessage.kind == kind, OutboxMessage.created_at > now - QUIET_FOR)
    if await session.scalar(select(recent)):
        return 0
    link = settings.public_url.rstrip("/") + "/staff"
    message = simple(settings, subject, lines, link)
    return to_staff(session, settings, await admins(session), kind[:32], message, now=now)
