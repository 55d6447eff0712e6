"""Words that speak to the service rather than to the intake: STOP, START, HELP and /status.

They run inside the router's transaction (as router intercepts), so a redelivery or a restart
between acknowledgement and processing handles them exactly once, like any other message.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import due_parts
from bot.domain.callbacks import OPEN_STATUSES
from bot.domain.records import forget
from flows.engine import DONE, N_, Reply
from storage.models import Callback, Contact, Conversation, Enquiry, InboxMessage

if TYPE_CHECKING:
    from bot.conversation.router import Router

# Twilio's standard opt-out and opt-in keywords (whole message, any case).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN = frozenset({"START", "UNSTOP"})
OPT_IN_WHEN_OUT = frozenset({"YES"})  # only means "start again" from someone opted out
HELP = frozenset({"HELP", "INFO"})
TWILIO_CHANNELS = frozenset({"sms", "whatsapp"})
STATUS_COMMAND = "/status"

UNSUBSCRIBED = N_(
    "You have unsubscribed: we will send you nothing more here and have deleted any "
    "unfinished enquiry. Send START to talk to us again."
)
STILL_UNSUBSCRIBED = N_("You asked us to stop messaging you here. Send START to talk to us again.")
SERVICE_INFO = N_(
    "{service}: free, confidential SEND advice. Open {hours}. Phone {phone}. "
    "Send STOP to unsubscribe."
)
STATUS_OPEN = N_("Your enquiry {reference}: an officer will call you by {time} on {date}.")
STATUS_NONE = N_("You have no open enquiry with us. Send any message to start one.")


def keyword(text: str) -> str:
    return " ".join(text.split()).strip(".!").upper()


async def subscriptions(
    session: AsyncSession,
    router: Router,
    contact: Contact,
    row: InboxMessage,
    now: datetime,
    conversation: Conversation | None = None,
    new: bool = False,
) -> list[Reply] | None:
    """STOP opts a number out (and forgets its unfinished intake); START opts it back in."""
    contact.unreachable = False  # they wrote to us: they have not blocked us (any more)
    if row.channel not in TWILIO_CHANNELS:
        return None
    word = keyword(str(row.payload.get("text") or ""))
    _ = router.catalogs.gettext(contact.language)
    if word in OPT_OUT:
        contact.opted_out = True
        await forget(session, contact, None, keep_contact=True)
        # On SMS, Twilio answers STOP itself on long codes (and would block our reply anyway).
        return [] if row.channel == "sms" else [Reply(_(UNSUBSCRIBED))]
    if contact.opted_out:
        if word in OPT_IN or word in OPT_IN_WHEN_OUT:
            contact.opted_out = False
            return None  # the intake greets them as a new conversation
        return [] if row.channel == "sms" else [Reply(_(STILL_UNSUBSCRIBED))]
    return None


async def help_and_status(
    session: AsyncSession,
    router: Router,
    contact: Contact,
    row: InboxMessage,
    now: datetime,
    conversation: Conversation | None = None,
    new: bool = False,
) -> list[Reply] | None:
    """HELP on SMS/WhatsApp: who we are and when we are open; /status: where my enquiry is."""
    text = str(row.payload.get("text") or "").strip()
    language = contact.language or "en"
    if text.lower() == STATUS_COMMAND:
        return [await status_reply(session, router, contact, language)]
    if row.channel in TWILIO_CHANNELS and keyword(text) in HELP:
        conversation = await session.scalar(
            select(Conversation).where(Conversation.contact_id == contact.id)
        )
        state = dict(conversation.state) if conversation else {"language": language}
        engine = router.engine(state, conversation.flow if conversation else "intake")
        replies = [Reply(engine._(SERVICE_INFO))]
        if conversation is not None and state.get("step") not in {None, DONE}:
            replies.append(engine.reprompt(state))
        return replies
    return None


async def status_reply(
    session: AsyncSession, router: Router, contact: Contact, language: str
) -> Reply:
    _ = router.catalogs.gettext(language)
    found = (
        await session.execute(
            select(Enquiry.reference, Callback.due_at)
            .join(Callback, Callback.enquiry_id == Enquiry.id)
            .where(Enquiry.contact_id == contact.id, Callback.closed_at.is_(None))
            .where(Callback.status.in_(OPEN_STATUSES))
            .order_by(Enquiry.received_at.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return Reply(_(STATUS_NONE))
    reference, due_at = found
    parts = due_parts(due_at, language, router.settings.timezone)
    return Reply(_(STATUS_OPEN).format(reference=reference, **parts))
