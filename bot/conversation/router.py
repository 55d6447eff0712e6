"""One path for every message: inbox (de-duplicated) → per-conversation lock → engine → store.

`Delivery` (delivery.py) keeps the inbox, the locks and the transaction; here is what a message
means: STOP/HELP and the other intercepts, safety first, the flood guard, the turn. The new
state, the enquiry, its callback, the transcript and any outbox rows are committed with the
inbox row in one transaction, so a crash leaves either the old state or the whole new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.delivery import Delivery
from bot.conversation.flood import FloodGuard, throttled
from bot.conversation.message import Inbound, Processed
from bot.conversation.starting import start_flow
from bot.conversation.turn import first_language, take_turn
from bot.core.clock import WorkingClock
from bot.core.i18n import Catalogs, office_hours
from bot.core.locks import ConversationLocks
from bot.core.services import utcnow
from bot.core.settings import Settings
from bot.domain import contacts
from bot.domain.enquiries import confirmation_text
from flows.engine import Engine, Flow, Reply
from flows.intake import INTAKE
from flows.safeguarding import find_risk
from flows.validators import show_phone
from storage import inbox, outbox
from storage.models import Contact, Conversation, Enquiry, InboxMessage

# Inbound and Processed live in message.py; channels import them from here, as before.
__all__ = ["Finisher", "Inbound", "Intercept", "Processed", "Router"]

Finisher = Callable[
    [AsyncSession, "Router", Contact, Conversation, dict[str, Any], datetime],
    Awaitable[list[Reply]],
]
# Runs before the flow, given the contact's conversation (locked) and whether the contact is
# new; a list of replies means "handled here" (STOP, HELP, /status, a reply after the intake).
Intercept = Callable[
    [AsyncSession, "Router", Contact, InboxMessage, datetime, Conversation | None, bool],
    Awaitable[list[Reply] | None],
]


def _gone(session: AsyncSession, contact: Contact) -> bool:
    """Deleted in this transaction (stop, or no consent, with nothing to keep)."""
    return contact in session.deleted or inspect(contact).was_deleted


def _language(session: AsyncSession, contact: Contact) -> str | None:
    """The contact's language as this transaction leaves it; None once it is deleted."""
    return None if _gone(session, contact) else contact.language


class Router(Delivery):
    """Takes inbound messages to the intake flow and back, exactly once each."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: Settings,
        clock: WorkingClock,
        catalogs: Catalogs,
        *,
        outbox_channels: frozenset[str] = frozenset({"telegram"}),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.catalogs = catalogs
        self.outbox_channels = outbox_channels
        self.now = now
        self.locks = ConversationLocks()
        self.flows: dict[str, tuple[Flow, Finisher | None]] = {INTAKE.name: (INTAKE, None)}
        # SQLite takes one writer at a time: there, every conversation shares one lock.
        self._one_writer = settings.is_sqlite
        self.intercepts: list[Intercept] = []
        self.flood = FloodGuard()
        self._said: dict[str, dict[str, str]] = {}  # placeholders by language (`_params`)

    async def _process_row(self, session: AsyncSession, row: InboxMessage) -> Processed:
        """Run a recorded, unprocessed delivery through its conversation."""
        now = self.now()
        text = str(row.payload.get("text") or "")
        # Read before anything is forgotten: a "stop" blanks the row's address, not the reply's.
        sender = (row.channel, row.address)
        contact, new = await contacts.arrived(
            session,
            row.channel,
            row.address,
            now,
            language=first_language(self, row.payload),
            inbound_at=row.received_at,
        )
        # A contact created just now has no conversation to look for.
        conversation = None if new else await contacts.conversation_of(session, contact)
        for intercept in self.intercepts:
            handled = await intercept(session, self, contact, row, now, conversation, new)
            if handled is not None:
                await self._done(session, row, sender, contact.id, handled, now)
                return Processed(handled, _language(session, contact))
        if conversation is None and not new:  # an intercept may have begun one
            conversation = await contacts.conversation_of(session, contact)
        # Safety first: a worry about a child is answered at once, throttled or not.
        state = conversation.state if conversation else {}
        risk = find_risk(text, state.get("language") or contact.language) if text.strip() else None
        if conversation is not None and risk is None:
            allowed, warn = self.flood.allow((row.channel, row.address), now)
            if not allowed:
                kept = await throttled(
                    self.engine(dict(conversation.state), conversation.flow),
                    session,
                    contact,
                    conversation,
                    text,
                    warn,
                    now,
                )
                await self._done(session, row, sender, contact.id, kept, now)
                return Processed(kept, _language(session, contact))
        replies = await take_turn(session, self, contact, conversation, row, risk, now)
        kept_id = None if _gone(session, contact) else contact.id
        await self._done(session, row, sender, kept_id, replies, now)
        return Processed(replies, _language(session, contact))

    async def _done(
        self,
        session: AsyncSession,
        row: InboxMessage,
        sender: tuple[str, str],
        contact_id: int | None,
        replies: list[Reply],
        now: datetime,
    ) -> list[Reply]:
        """Mark the delivery processed with its replies, queued for `sender` where that is how
        the channel answers."""
        self._send_later(session, sender, contact_id, replies, now)
        await inbox.mark_processed(session, row, {"items": [r.as_dict() for r in replies]}, now)
        return replies

    # -- helpers ---------------------------------------------------------------
    def register_flow(self, flow: Flow, finisher: Finisher) -> None:
        """Add a flow the service starts itself; `finisher` stores its answers when it completes."""
        self.flows[flow.name] = (flow, finisher)

    async def start_flow(
        self,
        session: AsyncSession,
        contact: Contact,
        flow_name: str,
        state: dict[str, Any],
        now: datetime,
        enquiry_id: int | None = None,
        *,
        kind: str,
    ) -> list[Reply] | None:
        """Begin a service-started flow with a contact and queue its first messages (outbox rows
        of `kind`) to them; None when they are mid-intake (busy) and nothing was done."""
        return await start_flow(
            session, self, contact, flow_name, state, now, enquiry_id, kind=kind
        )

    def engine(self, state: dict[str, Any], flow_name: str = INTAKE.name) -> Engine:
        language = state.get("language") or "en"
        known = state.get("answers", {}).get("known_phone")
        flow = self.flows[flow_name][0] if flow_name in self.flows else INTAKE
        translate = self.catalogs.gettext(language)
        return Engine(
            flow,
            translate,
            self.catalogs.names(),
            self._params(language),
            language=language,
            later={"known_phone": lambda: show_phone(known) if known else ""},
        )

    def _params(self, language: str) -> dict[str, str]:
        """The service's own placeholders in `language`: the same every message, made once."""
        params = self._said.get(language)
        if params is None:
            hours = office_hours(
                language, self.settings.opens, self.settings.closes, self.clock.weekdays
            )
            params = self._said[language] = {
                "service": self.settings.service_name,
                "phone": self.settings.service_phone,
                "hours": hours,
                "children_services": self.settings.children_services_phone,
                "out_of_hours": self.settings.out_of_hours_phone,
            }
        return params

    def confirmation(self, enquiry: Enquiry, state: dict[str, Any]) -> Reply:
        return Reply(
            confirmation_text(
                self.catalogs, self.settings.timezone, enquiry, state.get("language") or "en"
            )
        )

    def _send_later(
        self,
        session: AsyncSession,
        sender: tuple[str, str],
        contact_id: int | None,
        replies: list[Reply],
        now: datetime,
    ) -> None:
        channel, address = sender
        if channel not in self.outbox_channels:
            return
        for reply in replies:
            outbox.enqueue(
                session,
                channel=channel,
                address=address,
                kind="reply",
                payload=reply.as_dict(),
                now=now,
                contact_id=contact_id,
            )
