"""Officers reach parents from the case: a text in the parent's language, through the channel
the parent used, only where the parent said a text is safe; each message counts as an attempt.

Calls through the helpline's number are placed by the Twilio channel; here are the rules both
share (who may be contacted, how the call's outcome becomes an attempt) so they live once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.errors import HelplineError
from bot.core.i18n import Catalogs, babel_locale
from bot.core.settings import Settings
from bot.domain import audit, casework, contacts
from bot.domain.callbacks import OPEN_STATUSES
from flows.officer_messages import OFFICER_MESSAGES
from flows.validators import phone as parse_phone
from storage import outbox
from storage.models import CallAttempt, Contact, Enquiry, OfficerCall, OutboxMessage, Staff
from storage.models import TranscriptLine as Line

MAX_FREE_TEXT = 600
# Twilio's DialCallStatus for the parent's leg: what the attempt log says happened.
DIALLED = {"completed": "spoke", "answered": "spoke", "busy": "no_answer"}
DIALLED |= {"no-answer": "no_answer", "failed": "no_answer", "canceled": "no_answer"}


class ReachError(HelplineError):
    """Why this parent cannot be called or texted now; shown to the officer beside the button."""


@dataclass(frozen=True)
class Draft:
    """One message as the parent will read it, with the English the officer chose from."""

    key: str
    english: str
    parent: str
    language: str
    translated: bool


def text_closed(
    settings: Settings, enquiry: Enquiry, contact: Contact | None, now: datetime
) -> str | None:
    """The reason a text may not be sent, or None when it may."""
    if not enquiry.voicemail_ok:
        return "The parent did not say a text or voicemail is safe, so no message can be sent."
    if contact is None:
        return "There is no contact to write to (the parent's details were erased)."
    if contact.opted_out:
        return "The parent has opted out of messages (STOP)."
    if contact.unreachable:
        return "The parent's channel has refused our messages (blocked or failed): call instead."
    if whatsapp_closed(contact, now) and not settings.twilio_whatsapp_template_sid:
        return (
            "The parent last wrote on WhatsApp more than 24 hours ago. Outside that window "
            "WhatsApp takes only an approved template, and none is set "
            "(TWILIO_WHATSAPP_TEMPLATE_SID): call instead."
        )
    return None


def whatsapp_closed(contact: Contact | None, now: datetime) -> bool:
    """A WhatsApp parent outside the 24-hour customer-care window."""
    return (
        contact is not None
        and contact.channel == "whatsapp"
        and not contacts.in_whatsapp_window(contact, now)
    )


def free_text_closed(contact: Contact | None, now: datetime) -> str | None:
    """Why only the catalog messages may go (WhatsApp, outside the 24-hour window: they go
    inside the approved template), or None when the officer may write their own."""
    if whatsapp_closed(contact, now):
        return (
            "Outside WhatsApp's 24-hour window (the parent has not written for a day) only "
            "the approved template can go: choose a message, it is sent inside the template."
        )
    return None


def _params(
    settings: Settings, clock: WorkingClock, language: str, enquiry: Enquiry, now: datetime
) -> dict[str, str]:
    """The placeholders, with the next working day written as `language` writes dates."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    locale = babel_locale(language)
    next_day = clock.next_working_day(local.date())
    return {
        "service": settings.service_name,
        "phone": settings.service_phone,
        "reference": enquiry.reference,
        "time": local.strftime("%H:%M"),
        "day": format_date(next_day, "EEEE d MMMM", locale=locale),
    }


def drafts(
    settings: Settings, clock: WorkingClock, catalogs: Catalogs, enquiry: Enquiry, now: datetime
) -> list[Draft]:
    """Every catalog message, in English and in the parent's language, ready to preview."""
    params = _params(settings, clock, enquiry.language, enquiry, now)
    en_params = _params(settings, clock, "en", enquiry, now)
    english, theirs = catalogs.gettext("en"), catalogs.gettext(enquiry.language)
    out = []
    for key, msgid in OFFICER_MESSAGES.items():
        parent = theirs(msgid)
        out.append(
            Draft(
                key,
                english(msgid).format(**en_params),
                parent.format(**params),
                enquiry.language,
                enquiry.language == "en" or parent != msgid,
            )
        )
    return out


async def send_text(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    catalogs: Catalogs,
    enquiry: Enquiry,
    staff: Staff,
    now: datetime,
    *,
    key: str = "",
    free_text: str = "",
) -> str:
    """Queue (or, for the web chat, post) one message to the parent and log it as an attempt.
    Returns what the officer is told about delivery."""
    contact = await session.get(Contact, enquiry.contact_id) if enquiry.contact_id else None
    reason = text_closed(settings, enquiry, contact, now)
    if reason is not None:
        raise ReachError(reason)
    assert contact is not None
    if key:
        chosen = {d.key: d for d in drafts(settings, clock, catalogs, enquiry, now)}.get(key)
        if chosen is None:
            raise ReachError("Choose one of the messages.")
        text = chosen.parent
    else:
        text = free_text.strip()
        if not text:
            raise ReachError("Choose a message or write one.")
        closed = free_text_closed(contact, now)
        if closed is not None:
            raise ReachError(closed)
        if len(text) > MAX_FREE_TEXT:
            raise ReachError(f"Messages are limited to {MAX_FREE_TEXT} characters.")
    told = await _deliver(session, contact, enquiry, text, now)
    if enquiry.callback is not None and enquiry.callback.status in OPEN_STATUSES:
        note = key or "free text"
        await casework.log_attempt(session, clock, enquiry, staff, "message", now, note)
    audit.record(session, staff, "message parent", now, enquiry_id=enquiry.id, detail=key or "free")
    return told


async def _deliver(
    session: AsyncSession, contact: Contact, enquiry: Enquiry, text: str, now: datetime
) -> str:
    channel, address = contact.channel, contact.address
    if channel == "voice":  # a caller is texted on the number they rang from
        sms = await contacts.find_or_create(session, "sms", address, now, language=contact.language)
        if sms.opted_out:
            raise ReachError("The parent has opted out of text messages (STOP).")
        channel, contact = "sms", sms
    if channel in outbox.PARENT_CHANNELS:
        outbox.enqueue(
            session,
            channel=channel,
            address=contact.address,
            kind="officer",
            payload={"text": text},
            now=now,
            contact_id=contact.id,
            enquiry_id=enquiry.id,
        )
        return f"Queued to send by {channel}."
    # The web chat and the console cannot be pushed to: the parent sees it when they return.
    session.add(
        Line(contact_id=contact.id, enquiry_id=enquiry.id, direction="out", text=text, at=now)
    )
    return "Posted to the web chat: the parent will see it when they next open the chat."


async def sent_texts(session: AsyncSession, enquiry: Enquiry) -> list[OutboxMessage]:
    """The officer messages of this case with their delivery state, newest last."""
    statement = select(OutboxMessage).where(
        OutboxMessage.enquiry_id == enquiry.id, OutboxMessage.kind == "officer"
    )
    return list((await session.scalars(statement.order_by(OutboxMessage.id))).all())


def check_staff_phone(raw: str) -> str | None:
    """An officer's own number as E.164 (empty clears it), or a readable ReachError."""
    if not raw.strip():
        return None
    number = parse_phone(raw.strip())
    if not isinstance(number, str):
        raise ReachError(f"{raw.strip()[:32]!r} is not a phone number such as 07700 900123.")
    return number


def call_closed(settings: Settings, enquiry: Enquiry, staff: Staff) -> str | None:
    """The reason a call through the helpline's number cannot start, or None when it can."""
    if not settings.twilio_enabled or not settings.twilio_phone_number:
        return "Calls through the helpline's number need Twilio (TWILIO_* settings)."
    if not staff.phone:
        return "Add your phone number (the helpline rings you first) under My phone."
    if not enquiry.callback_phone:
        return "The parent gave no number to call."
    if enquiry.callback is None or enquiry.callback.status == "closed":
        return "This callback is closed."
    return None


async def call_outcome(
    session: AsyncSession,
    clock: WorkingClock,
    call: OfficerCall,
    status: str,
    seconds: int,
    now: datetime,
) -> CallAttempt | None:
    """The parent's leg ended: log the attempt once (a redelivered callback changes nothing)."""
    call.parent_status, call.parent_seconds, call.updated_at = status[:16], seconds, now
    outcome = DIALLED.get(status)
    if call.attempt_id is not None or outcome is None:
        return None
    if outcome == "spoke" and seconds <= 0:
        outcome = "no_answer"
    enquiry = await session.get(Enquiry, call.enquiry_id)
    staff = await session.get(Staff, call.staff_id) if call.staff_id else None
    if enquiry is None or staff is None:
        return None
    await session.refresh(enquiry, ["callback"])
    if enquiry.callback is None or enquiry.callback.status == "closed":
        return None
    note = f"call through the helpline, {seconds} s" if outcome == "spoke" else status
    attempt = await casework.log_attempt(session, clock, enquiry, staff, outcome, now, note)
    await session.flush()
    call.attempt_id = attempt.id
    return attempt
