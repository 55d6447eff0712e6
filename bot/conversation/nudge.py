"""Starting the nudge with parents we could not reach, and storing what they answer.

After `settings.nudge_after_attempts` unanswered attempts (the casework screen counts one per
working day) the parent is messaged once on their own channel. Web chat and console contacts
cannot be messaged, so they are left to the officers.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.orm import aliased

from bot.core.i18n import due_parts
from bot.domain import audit, contacts
from bot.domain.callbacks import OPEN_STATUSES
from flows.engine import Reply
from flows.nudge import CLOSED, NUDGE, NUDGE_NAME, RESCHEDULED, WINDOWS
from storage.models import Callback, Contact, Conversation, Enquiry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.conversation.helpline import Helpline
    from bot.conversation.router import Router

UNREACHABLE_CHANNELS = ("webchat", "console")
E164 = re.compile(r"^\+\d{8,15}$")


def register(router: Router) -> None:
    router.register_flow(NUDGE, finish_nudge)


async def _reachable(session: AsyncSession, contact: Contact, now: datetime) -> Contact | None:
    """The contact to message: a phone caller is texted (as an SMS contact of the same number)."""
    if contact.opted_out or contact.unreachable or contact.channel in UNREACHABLE_CHANNELS:
        return None
    if contact.channel != "voice":
        return contact
    if not E164.match(contact.address):
        return None
    sms = await contacts.find(session, "sms", contact.address)
    if sms is None:
        sms = await contacts.find_or_create(
            session, "sms", contact.address, now, language=contact.language
        )
    return None if sms.opted_out or sms.unreachable else sms


async def start_nudges(services: Helpline, now: datetime) -> int:
    """Message each parent due a nudge, once; only while the office is open."""
    if not services.clock.is_open(now):
        return 0
    async with services.sessions() as session:
        due = await due_for_nudge(session, services.settings.nudge_after_attempts)
    started = 0
    for callback_id in due:
        async with services.sessions.begin() as session:
            started += await _nudge_one(services.router, session, callback_id, now)
    return started


async def due_for_nudge(session: AsyncSession, limit: int) -> list[int]:
    """Open callbacks with `limit` unanswered attempts, not yet nudged, whose parent we can message.

    Contacts that can never be messaged are left out here, not re-examined every minute.
    """
    twin = aliased(Contact)
    silenced_twin = (
        select(twin.id)
        .where(
            twin.channel == "sms",
            twin.address_hash == Contact.address_hash,
            or_(twin.opted_out, twin.unreachable),
        )
        .exists()
    )
    return list(
        await session.scalars(
            select(Callback.id)
            .join(Enquiry, Callback.enquiry_id == Enquiry.id)
            .join(Contact, Enquiry.contact_id == Contact.id)
            .where(
                Callback.status.in_(OPEN_STATUSES),
                Callback.unanswered_attempts >= limit,
                Callback.nudged_at.is_(None),
                Contact.channel.not_in(UNREACHABLE_CHANNELS),
                ~Contact.opted_out,
                ~Contact.unreachable,
                ~((Contact.channel == "voice") & silenced_twin),
            )
        )
    )


async def _nudge_one(router: Router, session: AsyncSession, callback_id: int, now: datetime) -> int:
    callback = await session.get(Callback, callback_id)
    if callback is None or callback.nudged_at is not None:
        return 0
    enquiry = await session.get(Enquiry, callback.enquiry_id)
    contact = (
        await session.get(Contact, enquiry.contact_id) if enquiry and enquiry.contact_id else None
    )
    target = await _reachable(session, contact, now) if contact else None
    if enquiry is None or target is None:
        return 0
    claimed = await session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.nudged_at.is_(None))
        .values(nudged_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return 0  # another sweep got there first
    state: dict[str, Any] = {"language": enquiry.language, "reference": enquiry.reference}
    replies = await router.start_flow(
        session, target, NUDGE_NAME, state, now, enquiry.id, kind="nudge"
    )
    if replies is None:
        # Mid-intake with us right now: give the claim back and try at the next sweep.
        await session.execute(
            update(Callback).where(Callback.id == callback_id).values(nudged_at=None)
        )
        return 0
    return 1


async def finish_nudge(
    session: AsyncSession,
    router: Router,
    contact: Contact,
    conversation: Conversation,
    state: dict[str, Any],
    now: datetime,
) -> list[Reply]:
    """Store the parent's answer: a new time (due the next working day) or the case closed."""
    answers = state.get("answers", {})
    language = state.get("language") or "en"
    _ = router.catalogs.gettext(language)
    callback = await session.scalar(
        select(Callback).where(Callback.enquiry_id == conversation.enquiry_id).with_for_update()
    )
    enquiry = await session.get(Enquiry, conversation.enquiry_id) if callback else None
    if callback is None or enquiry is None or callback.status not in OPEN_STATUSES:
        return []
    if answers.get("answer") == "not_needed":
        callback.status, callback.closed_at = "closed", now
        enquiry.status, enquiry.outcome, enquiry.closed_at = "closed", "no_longer_needed", now
        audit.record(
            session,
            None,
            "callback_closed",
            now,
            enquiry_id=enquiry.id,
            detail="no_longer_needed (nudge)",
            actor="parent",
        )
        return [Reply(_(CLOSED).format(reference=enquiry.reference))]
    window = str(answers.get("best_time") or "any")
    settings, clock = router.settings, router.clock
    zone = ZoneInfo(settings.timezone)
    day = clock.next_working_day(clock.local_date(now))
    ends = time(12, 0) if window == "morning" else settings.closes
    callback.preferred_time = window
    callback.due_at = datetime.combine(day, ends, zone).astimezone(now.tzinfo)
    # A new deadline gets its own reminder and escalation.
    callback.reminded_at = callback.escalated_at = None
    audit.record(
        session,
        None,
        "callback_rescheduled",
        now,
        enquiry_id=enquiry.id,
        detail=f"preferred {window} (nudge)",
        actor="parent",
    )

    parts = due_parts(callback.due_at, language, settings.timezone)
    text = _(RESCHEDULED).format(window=_(WINDOWS.get(window, WINDOWS["any"])), date=parts["date"])
    return [Reply(text)]
