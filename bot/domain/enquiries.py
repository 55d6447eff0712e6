"""Turning a finished (or abandoned) intake into an enquiry with its callback."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.i18n import due_parts
from bot.core.settings import Settings
from bot.domain.callbacks import WINDOWS, open_callback, unused_reference
from flows.engine import N_
from flows.intake import CONFIRMATION, CONFIRMATION_INCOMPLETE, callback_phone
from storage.models import Contact, Enquiry, RiskMatch, TranscriptLine

if TYPE_CHECKING:
    from bot.core.i18n import Catalogs

# The promise in the parent's chosen window: "on Friday 27 November in the afternoon, by 17:00".
CONFIRMATION_IN_WINDOW = {
    "morning": N_(
        "Thank you. Your reference is {reference}. An officer will call you on {date} in the "
        "morning, by {time}."
    ),
    "afternoon": N_(
        "Thank you. Your reference is {reference}. An officer will call you on {date} in the "
        "afternoon, by {time}."
    ),
}

FIELDS = (
    "asker",
    "topic",
    "stage",
    "child_age",
    "setting",
    "description",
    "best_time",
    "voicemail_ok",
    "interpreter",
    "share_consent",
    "heard_from",
)


async def create_enquiry(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    *,
    contact: Contact,
    channel: str,
    state: dict[str, Any],
    received_at: datetime,
    now: datetime,
    incomplete: bool = False,
) -> Enquiry:
    """Store the answers as an enquiry and queue its callback, in the caller's transaction."""
    answers = dict(state.get("answers", {}))
    enquiry = Enquiry(
        reference=await unused_reference(session, settings.reference_prefix),
        contact_id=contact.id,
        channel=channel,
        language=state.get("language") or "en",
        received_at=received_at,
        callback_phone=callback_phone(answers),
        urgent=bool(state.get("urgent")),
        incomplete=incomplete,
        status="open",
        legal_hold=False,
        answers=answers,
        **{name: answers.get(name) for name in FIELDS},
    )
    session.add(enquiry)
    await session.flush()
    await open_callback(
        session,
        enquiry,
        clock,
        working_days=settings.response_working_days,
        now=now,
        preferred_time=answers.get("best_time"),
    )
    await session.execute(
        update(TranscriptLine)
        .where(TranscriptLine.contact_id == contact.id, TranscriptLine.enquiry_id.is_(None))
        .values(enquiry_id=enquiry.id)
    )
    await session.execute(
        update(RiskMatch)
        .where(RiskMatch.contact_id == contact.id, RiskMatch.enquiry_id.is_(None))
        .values(enquiry_id=enquiry.id)
    )
    return enquiry


async def find_enquiry(session: AsyncSession, reference: str) -> Enquiry | None:
    """The enquiry with this reference, as an officer types it (any case)."""
    found: Enquiry | None = await session.scalar(
        select(Enquiry).where(Enquiry.reference == reference.strip().upper())
    )
    return found


def confirmation_text(
    catalogs: Catalogs, timezone: str, enquiry: Enquiry, language: str, incomplete: bool = False
) -> str:
    """ "Your reference is PP-7KX3QD. An officer will call you by 10:00 on Tuesday 24 November.\""""
    callback = enquiry.callback
    assert callback is not None
    parts = due_parts(callback.due_at, language, timezone)
    window = callback.preferred_time if not callback.urgent else None
    if incomplete:
        msgid = CONFIRMATION_INCOMPLETE
    elif window in WINDOWS:
        msgid = CONFIRMATION_IN_WINDOW[str(window)]
    else:
        msgid = CONFIRMATION
    template = catalogs.gettext(language)(msgid)
    return template.format(reference=enquiry.reference, **parts)
