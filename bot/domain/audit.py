"""The audit log: who viewed, searched, exported or changed which record, and when.

These are records about children; every look at a case by staff is written down (invariant 5).
The detail never holds a phone number, a name or the parent's words.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, Staff

VIEW = "view enquiry"
SEARCH = "search"
VIEW_REPORT = "view report"
EXPORT_REPORT = "export report"
PLAY_RECORDING = "play recording"


def record(
    session: AsyncSession,
    staff: Staff | None,
    action: str,
    now: datetime,
    *,
    enquiry_id: int | None = None,
    detail: str | None = None,
    actor: str | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction, so the change and its record commit together."""
    entry = AuditEntry(
        at=now,
        staff_id=staff.id if staff else None,
        actor=actor or (staff.email if staff else "system"),
        action=action[:64],
        enquiry_id=enquiry_id,
        detail=detail[:255] if detail else None,
    )
    session.add(entry)
    return entry


async def recent(
    session: AsyncSession, *, before_id: int | None = None, limit: int = 100
) -> list[AuditEntry]:
    """The newest entries first; `before_id` pages back through older ones."""
    statement = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    return list((await session.scalars(statement)).all())
