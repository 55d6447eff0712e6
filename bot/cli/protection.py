"""`helpline export`, `erase` and `purge`: subject access, erasure and the retention schedule."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from bot.conversation.idle import held_for_staff
from bot.core.errors import HelplineError
from storage.models import (
    Enquiry,
)

if TYPE_CHECKING:
    from bot.conversation.helpline import Helpline

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flows.validators import phone as parse_phone

if TYPE_CHECKING:
    from bot.conversation.helpline import Helpline
from bot.domain.protection import _as_dict, _audit, erase_person, find_person, gather, render_html
from bot.domain.retention import apply_retention


def _subject(args: argparse.Namespace) -> tuple[str | None, str | None]:
    if args.phone is None:
        return None, args.reference
    number = parse_phone(args.phone)
    if not isinstance(number, str):
        raise HelplineError(
            "that is not a phone number this service can look up (try +447700900123)"
        )
    return number, None


async def export(services: Helpline, args: argparse.Namespace) -> int:
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


async def erase(services: Helpline, args: argparse.Namespace, ask: Any = input) -> int:
    """`helpline erase`: remove a person's data everywhere, after they are named twice."""
    phone, reference = _subject(args)
    now = services.now()
    async with services.sessions.begin() as session:
        person = await find_person(session, phone=phone, reference=reference)
        held = await gather(session, person)
        holds = [r.reference for r in held["enquiries"] if isinstance(r, Enquiry) and r.legal_hold]
        if holds:
            raise HelplineError(
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
            try:
                typed = ask("Type the phone number or reference again to confirm: ").strip()
            except EOFError:  # standard input closed or empty: nobody confirmed
                print()  # end the prompt's line
                raise HelplineError(
                    "no confirmation on standard input: nothing was erased "
                    "(type the number or reference again when asked, or pass --yes)"
                ) from None
            typed_norm = parse_phone(typed) if phone is not None else typed.upper()
            if typed_norm != wanted:
                raise HelplineError("that did not match: nothing was erased")
        await erase_person(session, person, held)
        _audit(
            session, "erasure", set(), f"{total} records, {len(person.enquiry_ids)} enquiries", now
        )
    print(f"erased {total} records")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]

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


async def purge(services: Helpline, args: argparse.Namespace) -> int:
    """`helpline purge [--dry-run]`: apply the retention schedule now."""

    counts = await apply_retention(services, services.now(), dry_run=args.dry_run)
    verb = "would remove" if args.dry_run else "removed"
    for what, number in counts.items():
        if what == "enquiries anonymised":
            anonymise = "would anonymise" if args.dry_run else "anonymised"
            print(f"{anonymise} {number} closed enquiries")
        else:
            print(f"{verb} {number} {what}")
    async with services.sessions() as session:
        held = await held_for_staff(session)
    if held:
        print(f"{len(held)} urgent conversation(s) held for staff review (never removed by age)")
    return 0
