"""Subject access and erasure: everything held about one person, found by phone or reference.

`helpline export` gathers every row about the person from every table (as JSON or a readable
HTML page); `helpline erase` removes the same rows after the operator types the number or
reference back. Both are audited, and the audit entries carry no personal data.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import ColumnElement, delete, false, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flows.validators import phone as parse_phone
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
    from bot.services import Services


@dataclass
class Person:
    """The keys that tie rows to one person."""

    contact_ids: set[int] = field(default_factory=set)
    enquiry_ids: set[int] = field(default_factory=set)
    callback_ids: set[int] = field(default_factory=set)
    hashes: set[str] = field(default_factory=set)


def _error(message: str) -> Exception:
    from bot.cli import CommandError

    return CommandError(message)


def phone_hashes(number: str) -> set[str]:
    """The look-up hash a phone number is stored under (SMS, voice and WhatsApp alike: the
    channels strip WhatsApp's ``whatsapp:`` prefix before hashing the address)."""
    return {lookup_hash(number)}


async def find_person(
    session: AsyncSession, *, phone: str | None = None, reference: str | None = None
) -> Person:
    """Start from a number or a reference and follow contacts, enquiries and numbers once."""
    person = Person()
    phones: set[str] = set()
    if phone is not None:
        phones.add(phone)
    if reference is not None:
        enquiry = await session.scalar(
            select(Enquiry).where(Enquiry.reference == reference.strip().upper())
        )
        if enquiry is None:
            raise _error(f"no enquiry has the reference {reference.strip().upper()}")
        person.enquiry_ids.add(enquiry.id)
        if enquiry.contact_id is not None:
            person.contact_ids.add(enquiry.contact_id)
        if enquiry.callback_phone:
            phones.add(enquiry.callback_phone)
    for number in phones:
        person.hashes |= phone_hashes(number)
    if person.hashes:
        found = await session.scalars(
            select(Contact.id).where(Contact.address_hash.in_(person.hashes))
        )
        person.contact_ids |= set(found)
    conditions: list[ColumnElement[bool]] = [Enquiry.contact_id.in_(person.contact_ids)]
    if phones:
        conditions.append(Enquiry.callback_phone_hash.in_({lookup_hash(p) for p in phones}))
    person.enquiry_ids |= set(await session.scalars(select(Enquiry.id).where(or_(*conditions))))
    hashes = await session.scalars(
        select(Contact.address_hash).where(Contact.id.in_(person.contact_ids))
    )
    person.hashes |= {h for h in hashes if h}
    person.callback_ids = set(
        await session.scalars(
            select(Callback.id).where(Callback.enquiry_id.in_(person.enquiry_ids))
        )
    )
    return person


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
        ("recordings", Recording, Recording.enquiry_id.in_(by_enquiry)),
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
            InboxMessage.address_hash.in_(p.hashes) if p.hashes else false(),
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
    from bot import audit

    actor = f"cli:{getpass.getuser()}"
    targets: list[int | None] = [*sorted(enquiry_ids)] or [None]
    for enquiry_id in targets:
        audit.record(session, None, action, now, enquiry_id=enquiry_id, detail=detail, actor=actor)


def _subject(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if args.phone is None:
        return None, args.reference
    number = parse_phone(args.phone)
    if not isinstance(number, str):
        raise _error("that is not a phone number this service can look up (try +447700900123)")
    return number, None


async def export(services: Services, args: argparse.Namespace) -> int:
    """`helpline export`: a subject access request answered with one command."""
    phone, reference = _subject(args)
    now = services.now()
    async with services.sessions.begin() as session:
        person = await find_person(session, phone=phone, reference=reference)
        held = await gather(session, person)
        total = sum(len(rows) for rows in held.values())
        document = {
            "service": services.settings.service_name,
            "generated_at": now.isoformat(),
            "subject": {"phone": phone, "reference": reference},
            "records": {name: [_as_dict(r) for r in rows] for name, rows in held.items()},
        }
        _audit(
            session,
            "subject_access_export",
            person.enquiry_ids,
            f"{args.format}, {total} records",
            now,
        )
    if args.format == "html":
        output = render_html(document)
    else:
        output = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    if args.output:
        path = Path(args.output)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(output)
        print(f"wrote {total} records to {path}", file=sys.stderr)
    else:
        print(output)
    if total == 0:
        print("nothing is held about that person", file=sys.stderr)
    return 0


async def erase(services: Services, args: argparse.Namespace, ask: Any = input) -> int:
    """`helpline erase`: remove a person's data everywhere, after they are named twice."""
    phone, reference = _subject(args)
    now = services.now()
    async with services.sessions.begin() as session:
        person = await find_person(session, phone=phone, reference=reference)
        held = await gather(session, person)
        holds = [r.reference for r in held["enquiries"] if isinstance(r, Enquiry) and r.legal_hold]
        if holds:
            raise _error(
                f"{', '.join(holds)} is under legal hold: nothing was erased "
                "(a manager must lift the hold first)"
            )
        total = sum(len(rows) for name, rows in held.items() if name != "audit entries")
        if total == 0:
            print("nothing is held about that person")
            return 0
        print("This will permanently remove:")
        for name, rows in held.items():
            if rows and name != "audit entries":
                print(f"  {len(rows):>5} {name}")
        if not args.yes:
            wanted = phone if phone is not None else (reference or "").strip().upper()
            typed = ask("Type the phone number or reference again to confirm: ").strip()
            typed_norm = parse_phone(typed) if phone is not None else typed.upper()
            if typed_norm != wanted:
                raise _error("that did not match: nothing was erased")
        await erase_person(session, person, held)
        _audit(
            session, "erasure", set(), f"{total} records, {len(person.enquiry_ids)} enquiries", now
        )
    print(f"erased {total} records")
    return 0


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


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from bot.retention import purge

    for name, run, text in (
        ("export", export, "everything held about a person (subject access)"),
        ("erase", erase, "remove a person's data everywhere"),
    ):
        p = commands.add_parser(name, help=text)
        who = p.add_mutually_exclusive_group(required=True)
        who.add_argument("--phone", metavar="NUMBER")
        who.add_argument("--reference", metavar="REF")
        if name == "export":
            p.add_argument("--format", choices=("json", "html"), default="json")
            p.add_argument("--output", metavar="FILE")
        else:
            p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        p.set_defaults(run=run)
    p = commands.add_parser("purge", help="apply the retention schedule now")
    p.add_argument("--dry-run", action="store_true", help="count, change nothing")
    p.set_defaults(run=purge)
