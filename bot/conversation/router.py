"""One path for every message: inbox (de-duplicated) → per-conversation lock → engine → store.

The new state, the enquiry, its callback, the transcript and any outbox rows are committed in
one transaction, so a crash leaves either the old state or the whole new one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.conversation.flood import FloodGuard, throttled
from bot.core import metrics
from bot.core.clock import WorkingClock
from bot.core.i18n import Catalogs, office_hours
from bot.core.locks import ConversationLocks
from bot.core.services import utcnow
from bot.core.settings import Settings
from bot.domain import contacts
from bot.domain.enquiries import confirmation_text, create_enquiry
from bot.domain.records import forget, safety_first, transcribe
from flows.engine import DONE, Engine, Flow, Reply
from flows.intake import INTAKE
from flows.validators import show_phone
from storage import inbox, outbox
from storage.crypto import lookup_hash
from storage.models import (
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
)

log = logging.getLogger(__name__)
RACE_RETRIES = 3
SQLITE_WRITER = ("sqlite", "writer")  # the one lock key every SQLite writer shares

Finisher = Callable[
    [AsyncSession, "Router", Contact, Conversation, dict[str, Any], datetime],
    Awaitable[list[Reply]],
]
# Runs before the flow; a list of replies means "handled here" (STOP, HELP, /status).
Intercept = Callable[
    [AsyncSession, "Router", Contact, InboxMessage, datetime], Awaitable[list[Reply] | None]
]


@dataclass(frozen=True)
class Inbound:
    """A message from a parent, as every channel hands it over."""

    channel: str
    address: str
    provider_id: str
    text: str
    received_at: datetime
    language_hint: str | None = None
    known_phone: str | None = None

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language_hint": self.language_hint,
            "known_phone": self.known_phone,
        }


@dataclass(frozen=True)
class Processed:
    """What one message produced: the replies, and the contact's language once it was done."""

    replies: list[Reply]
    language: str | None  # None when the contact was forgotten (or never existed)


def _language(session: AsyncSession, contact: Contact) -> str | None:
    """The contact's language as this transaction leaves it; None once it is deleted."""
    if contact in session.deleted or inspect(contact).was_deleted:
        return None
    return contact.language


class Router:
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

    # -- the path -----------------------------------------------------------
    async def deliver(self, message: Inbound) -> list[Reply]:
        """Record then process; a redelivery returns what the first delivery replied."""
        return (await self.deliver_message(message)).replies

    async def deliver_message(self, message: Inbound) -> Processed:
        """`deliver`, also giving the contact's language (None for a forgotten contact), so a
        channel that renders by language needs no second read."""
        key = (message.channel, message.address)
        inbox_id = await self.record(message)
        if inbox_id is None:
            # A redelivery: processing replays what the first delivery replied (or, when that
            # one failed before answering, processes it now, once).
            async with self.sessions() as session:
                row = await inbox.find_inbound(session, message.channel, message.provider_id)
            if row is None:
                return Processed([], None)
            inbox_id, key = row.id, (row.channel, row.address)
        return await self.process_message(inbox_id, key=key)

    async def record(self, message: Inbound) -> int | None:
        """Commit the delivery to the inbox; only after this may the provider get its 2xx."""
        async with self.sessions.begin() as session:
            inbox_id = await inbox.record_inbound(
                session,
                channel=message.channel,
                provider_id=message.provider_id,
                address=message.address,
                payload=message.payload(),
                received_at=message.received_at,
            )
        metrics.MESSAGES_IN.labels(
            message.channel, "redelivery" if inbox_id is None else "new"
        ).inc()
        return inbox_id

    async def recover(self) -> int:
        """Process deliveries acknowledged before a crash but never processed."""
        async with self.sessions() as session:
            pending = await inbox.unprocessed(session, limit=10_000)
        for row in pending:
            await self.process_message(row.id, key=(row.channel, row.address))
        return len(pending)

    @asynccontextmanager
    async def one_writer(self) -> AsyncIterator[None]:
        """On SQLite writers take turns (one database lock for the whole process) rather than
        fail with "database is locked"; on PostgreSQL row locks do the work."""
        if not self._one_writer:
            yield
            return
        async with self.locks.hold(SQLITE_WRITER):
            yield

    async def process_message(self, inbox_id: int, key: tuple[str, str]) -> Processed:
        """Process one recorded delivery under its conversation's lock.

        `key` is the delivery's (channel, address), which every caller already holds; the
        language comes back so a channel rendering by language needs no second read.
        """
        async with self.locks.hold(SQLITE_WRITER if self._one_writer else key):
            for attempt in range(1, RACE_RETRIES + 1):
                try:
                    async with self.sessions.begin() as session:
                        done = await self._process(session, inbox_id)
                    if key[0] not in self.outbox_channels:  # the outbox counts its own sends
                        metrics.replied(key[0], len(done.replies))
                    return done
                except IntegrityError:
                    # Another worker created this contact or conversation a moment ago
                    # (the in-process lock cannot see it): run again on its row.
                    if attempt == RACE_RETRIES:
                        raise
                    log.info("a new contact raced another worker; processing again")
            raise AssertionError("unreachable")

    # -- inside the transaction ----------------------------------------------
    async def _process(self, session: AsyncSession, inbox_id: int) -> Processed:
        row = await session.get(InboxMessage, inbox_id, with_for_update=True)
        if row is None:
            return Processed([], None)
        if row.processed_at is not None:
            items = (row.replies or {}).get("items", [])
            language = await session.scalar(
                select(Contact.language).where(
                    Contact.channel == row.channel,
                    Contact.address_hash == lookup_hash(row.address),
                )
            )
            earlier = [Reply.from_dict(item) for item in items]
            return Processed(earlier, language)
        now = self.now()
        text = str(row.payload.get("text") or "")
        # Read before anything is forgotten: a "stop" blanks the row's address, not the reply's.
        sender = (row.channel, row.address)
        contact = await self._contact(session, row.channel, row.address, now)
        contact.last_inbound_at = row.received_at
        for intercept in self.intercepts:
            handled = await intercept(session, self, contact, row, now)
            if handled is not None:
                self._done(session, row, sender, contact.id, handled, now)
                return Processed(handled, _language(session, contact))
        conversation = await session.scalar(
            select(Conversation).where(Conversation.contact_id == contact.id).with_for_update()
        )
        if conversation is not None:
            allowed, warn = self.flood.allow((row.channel, row.address), now)
            if not allowed:
                kept = await throttled(
                    self.engine(dict(conversation.state), conversation.flow),
                    self.clock,
                    session,
                    contact,
                    conversation,
                    row,
                    text,
                    warn,
                    now,
                )
                self._done(session, row, sender, contact.id, kept, now)
                return Processed(kept, _language(session, contact))
        replies: list[Reply] = []
        outcome: str | None = None
        answering = str(conversation.state.get("step") or "start") if conversation else "start"
        if conversation is None:
            state = self._new_state(contact, row.payload)
            conversation = Conversation(
                contact_id=contact.id, flow=INTAKE.name, state=state, created_at=now, updated_at=now
            )
            session.add(conversation)
            engine = self.engine(state)
            turn = engine.start(state)
        else:
            state = dict(conversation.state)
            engine = self.engine(state, conversation.flow)
            turn = engine.advance(state, text)
        state, outcome = turn.state, turn.outcome
        flow, finisher = self.flows.get(conversation.flow, (INTAKE, None))
        replies.extend(turn.replies)
        safety = await safety_first(
            session,
            self.clock,
            self.engine(state),
            contact,
            conversation,
            state,
            row,
            answering,
            now,
        )
        if safety is not None:
            replies.insert(0, safety)
        if outcome == "language":
            contact.language = state["language"]
            engine = self.engine(state, flow.name)
            replies.append(engine.reprompt(state))
        elif finisher is not None and outcome in {"completed", "stopped"}:
            # A service-started flow (survey, nudge): its own ending, then the conversation goes.
            if outcome == "completed":
                replies.extend(await finisher(session, self, contact, conversation, state, now))
            transcribe(session, contact, conversation, text, replies, now)
            await session.delete(conversation)
            outcome = "finished"
        elif outcome == "completed":
            enquiry = await create_enquiry(
                session,
                self.settings,
                self.clock,
                contact=contact,
                channel=row.channel,
                state=state,
                received_at=row.received_at,
                now=now,
            )
            conversation.enquiry_id = enquiry.id
            state["step"] = DONE
            state["reference"] = enquiry.reference
            replies.append(self.confirmation(enquiry, state))
        if outcome in {"stopped", "declined"}:
            await forget(session, contact, conversation)
        elif outcome != "finished":
            contact.language = state.get("language") or contact.language
            conversation.state = state
            conversation.updated_at = now
            transcribe(session, contact, conversation, text, replies, now)
        forgotten = outcome in {"stopped", "declined"}
        self._done(session, row, sender, None if forgotten else contact.id, replies, now)
        return Processed(replies, _language(session, contact))

    def _done(
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
        row.processed_at = now
        row.replies = {"items": [r.as_dict() for r in replies]}
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
        existing = await session.scalar(
            select(Conversation).where(Conversation.contact_id == contact.id).with_for_update()
        )
        if existing is not None:
            if existing.flow == INTAKE.name and existing.state.get("step") != DONE:
                return None
            await session.delete(existing)
            await session.flush()
        state.setdefault("language", contact.language or "en")
        conversation = Conversation(
            contact_id=contact.id,
            flow=flow_name,
            state=state,
            enquiry_id=enquiry_id,
            created_at=now,
            updated_at=now,
        )
        session.add(conversation)
        turn = self.engine(state, flow_name).start(state)
        conversation.state = turn.state
        await session.flush()
        transcribe(session, contact, conversation, "", turn.replies, now)
        for reply in turn.replies:
            outbox.enqueue(
                session,
                channel=contact.channel,
                address=contact.address,
                kind=kind,
                payload=reply.as_dict(),
                now=now,
                contact_id=contact.id,
                enquiry_id=enquiry_id,
            )
        return turn.replies

    def engine(self, state: dict[str, Any], flow_name: str = INTAKE.name) -> Engine:
        language = state.get("language") or "en"
        known = state.get("answers", {}).get("known_phone")
        params = {
            "service": self.settings.service_name,
            "phone": self.settings.service_phone,
            "hours": office_hours(
                language, self.settings.opens, self.settings.closes, self.clock.weekdays
            ),
            "children_services": self.settings.children_services_phone,
            "out_of_hours": self.settings.out_of_hours_phone,
            "known_phone": show_phone(known) if known else "",
        }
        flow = self.flows[flow_name][0] if flow_name in self.flows else INTAKE
        translate = self.catalogs.gettext(language)
        return Engine(flow, translate, self.catalogs.names(), params, language=language)

    def confirmation(self, enquiry: Enquiry, state: dict[str, Any]) -> Reply:
        return Reply(
            confirmation_text(
                self.catalogs, self.settings.timezone, enquiry, state.get("language") or "en"
            )
        )

    def _new_state(self, contact: Contact, payload: dict[str, Any]) -> dict[str, Any]:
        language = contact.language
        hint = (payload.get("language_hint") or "").split("-")[0].lower()
        if not language and hint in self.catalogs.names():
            language = hint
        if not language and len(self.catalogs.names()) == 1:
            language = "en"
        answers: dict[str, Any] = {}
        if payload.get("known_phone"):
            answers["known_phone"] = payload["known_phone"]
        return {"language": language, "answers": answers, "history": []}

    async def _contact(
        self, session: AsyncSession, channel: str, address: str, now: datetime
    ) -> Contact:
        return await contacts.find_or_create(session, channel, address, now)

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
