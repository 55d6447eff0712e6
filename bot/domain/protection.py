"""Subject access and erasure: everything held about one person, found by phone or reference.

`helpline export` gathers every row about the person from every table (as JSON or a readable
HTML page); `helpline erase` removes the same rows after the operator types the number or
reference back. Both are audited, and the audit entries carry no personal data.
"""

from __future__ import annotations

import getpass
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import ColumnElement, delete, false, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import HelplineError
from bot.domain import audit
from storage.crypto import lookup_hash
from storage.models import (
    AuditEntry,
    Base,
    CallAttempt,
    Callback,
    CaseAction,
    CaseNote,
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
    OutboxMessage,
    Recording,
    RiskMatch,
    SurveyResponse,
    TranscriptLine,
    VoiceCall,
)

if TYPE_CHECKING:
    pass


@dataclass
class Person:
    """The keys that tie rows to one person."""

    contact_ids: set[int] = field(default_factory=set)
    enquiry_ids: set[int] = field(default_factory=set)
    callback_ids: set[int] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)
    call_sids: set[str] = field(default_factory=set)

    def size(self) -> int:
        return len(self.contact_ids) + len(self.enquiry_ids) + len(self.hashes)


def phone_hashes(number: str) -> set[str]:
    """The look-up hash a phone number is stored under (SMS, voice and WhatsApp alike: the
    channels strip WhatsApp's ``whatsapp:`` prefix before hashing the address)."""
    return {lookup_hash(number)}


async def find_person(
    session: AsyncSession, *, phone: str | None = None, reference: str | None = None
) -> Person:
    """Start from a number or a reference and follow every link until nothing new turns up.

    A number finds contacts (SMS, WhatsApp, voice) and enquiries that gave it as the callback
    number; an enquiry brings its contact (a web chat or a Telegram chat) and that contact's
    other enquiries and conversations; a phone call brings its enquiry; and so on, to a fixed
    point, so an enquiry made in a web chat is found by the number typed into it.
    """
    person = Person()
    if phone is not None:
        person.hashes |= phone_hashes(phone)
    if reference is not None:
        enquiry = await session.scalar(
            select(Enquiry).where(Enquiry.reference == reference.strip().upper())
        )
        if enquiry is None:
            raise HelplineError(f"no enquiry has the reference {reference.strip().upper()}")
        person.enquiry_ids.add(enquiry.id)
    while True:
        before = person.size()
        await _follow_links(session, person)
        if person.size() == before:
            break
    person.callback_ids = set(
        await session.scalars(
            select(Callback.id).where(Callback.enquiry_id.in_(person.enquiry_ids))
        )
    )
    return person


async def _follow_links(session: AsyncSession, person: Person) -> None:
    """One round: every row that names a key already known adds the keys it holds."""
    hashes = person.hashes or {""}
    contacts = await session.execute(
        select(Contact.id, Contact.address_hash).where(
            or_(Contact.id.in_(person.contact_ids), Contact.address_hash.in_(hashes))
        )
    )
    for contact_id, address_hash in contacts:
        person.contact_ids.add(contact_id)
        if address_hash:
            person.hashes.add(address_hash)
    enquiries = await session.execute(
        select(Enquiry.id, Enquiry.contact_id, Enquiry.callback_phone_hash).where(
            or_(
                Enquiry.id.in_(person.enquiry_ids),
                Enquiry.contact_id.in_(person.contact_ids),
                Enquiry.callback_phone_hash.in_(hashes),
            )
        )
    )
    for enquiry_id, owner_id, phone_hash in enquiries:
        person.enquiry_ids.add(enquiry_id)
        if owner_id is not None:
            person.contact_ids.add(owner_id)
        if phone_hash:
            person.hashes.add(phone_hash)
    conversations = await session.execute(
        select(Conversation.contact_id, Conversation.enquiry_id).where(
            or_(
                Conversation.contact_id.in_(person.contact_ids),
                Conversation.enquiry_id.in_(person.enquiry_ids),
            )
        )
    )
    for talker_id, talk_enquiry_id in conversations:
        person.contact_ids.add(talker_id)
        if talk_enquiry_id is not None:
            person.enquiry_ids.add(talk_enquiry_id)
    calls = await session.execute(
        select(VoiceCall.call_sid, VoiceCall.enquiry_id, VoiceCall.caller_hash).where(
            or_(VoiceCall.enquiry_id.in_(person.enquiry_ids), VoiceCall.caller_hash.in_(hashes))
        )
    )
    for call_sid, call_enquiry_id, caller_hash in calls:
        person.call_sids.add(call_sid)
        if call_enquiry_id is not None:
            person.enquiry_ids.add(call_enquiry_id)
        if caller_hash:
            person.hashes.add(caller_hash)


def _sections(p: Person) -> list[tuple[str, type[Base], ColumnElement[bool]]]:
    """Every table that can hold something about the person, with the rows that do."""
    by_enquiry = p.enquiry_ids
    return [
        ("contacts", Contact, Contact.id.in_(p.contact_ids)),
        ("enquiries", Enquiry, Enquiry.id.in_(by_enquiry)),
        ("callbacks", Callback, Callback.id.in_(p.callback_ids)),
        ("call attempts", CallAttempt, CallAttempt.callback_id.in_(p.callback_ids)),
        (
            "conversations",
            Conversation,
            or_(
                Conversation.contact_id.in_(p.contact_ids), Conversation.enquiry_id.in_(by_enquiry)
            ),
        ),
        (
            "transcript",
            TranscriptLine,
            or_(
                TranscriptLine.contact_id.in_(p.contact_ids),
                TranscriptLine.enquiry_id.in_(by_enquiry),
            ),
        ),
        ("case notes", CaseNote, CaseNote.enquiry_id.in_(by_enquiry)),
        ("case actions", CaseAction, CaseAction.enquiry_id.in_(by_enquiry)),
        ("survey responses", SurveyResponse, SurveyResponse.enquiry_id.in_(by_enquiry)),
        (
            "recordings",
            Recording,
            or_(Recording.enquiry_id.in_(by_enquiry), Recording.call_sid.in_(p.call_sids)),
        ),
        (
            "phone calls",
            VoiceCall,
            or_(
                VoiceCall.enquiry_id.in_(by_enquiry),
                VoiceCall.caller_hash.in_(p.hashes) if p.hashes else false(),
            ),
        ),
        (
            "risk matches",
            RiskMatch,
            or_(RiskMatch.enquiry_id.in_(by_enquiry), RiskMatch.contact_id.in_(p.contact_ids)),
        ),
        (
            "messages sent",
            OutboxMessage,
            or_(
                OutboxMessage.contact_id.in_(p.contact_ids),
                OutboxMessage.enquiry_id.in_(by_enquiry),
                OutboxMessage.address_hash.in_(p.hashes) if p.hashes else false(),
            ),
        ),
        (
            "messages received",
            InboxMessage,
            or_(
                InboxMessage.address_hash.in_(p.hashes) if p.hashes else false(),
                *(  # a call's recording and status callbacks carry its CallSid, not the number
                    InboxMessage.provider_id.startswith(f"{sid}:", autoescape=True)
                    for sid in sorted(p.call_sids)
                ),
            ),
        ),
        ("audit entries", AuditEntry, AuditEntry.enquiry_id.in_(by_enquiry)),
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _as_dict(row: Base) -> dict[str, Any]:
    """Every column a person would recognise (the look-up hashes mean nothing to them)."""
    return {
        attr.key: _plain(getattr(row, attr.key))
        for attr in inspect(type(row)).column_attrs
        if not attr.key.endswith("_hash")
    }


async def gather(session: AsyncSession, person: Person) -> dict[str, list[Base]]:
    held: dict[str, list[Base]] = {}
    for name, model, condition in _sections(person):
        pk = inspect(model).primary_key[0]
        held[name] = list(await session.scalars(select(model).where(condition).order_by(pk)))
    return held


def render_html(document: dict[str, Any]) -> str:
    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True),
    )
    return environment.get_template("subject_access.html").render(document=document, json=json)


def _audit(
    session: AsyncSession, action: str, enquiry_ids: set[int], detail: str, now: datetime
) -> None:

    actor = f"cli:{getpass.getuser()}"
    targets: list[int | None] = [*sorted(enquiry_ids)] or [None]
    for enquiry_id in targets:
        audit.record(session, None, action, now, enquiry_id=enquiry_id, detail=detail, actor=actor)


async def erase_person(session: AsyncSession, person: Person, held: dict[str, list[Base]]) -> None:
    """Delete every row found; audit entries lose their link and detail, not their existence."""
    await session.execute(
        update(AuditEntry)
        .where(AuditEntry.enquiry_id.in_(person.enquiry_ids))
        .values(enquiry_id=None, detail="about an erased enquiry")
    )
    order = [name for name, _m, _c in _sections(person) if name != "audit entries"]
    models = {name: model for name, model, _c in _sections(person)}
    for name in reversed(order):
        model = models[name]
        pk = inspect(model).primary_key[0]
        ids = [inspect(row).identity[0] for row in held[name]]  # type: ignore[index]
        if ids:
            await session.execute(delete(model).where(pk.in_(ids)))
