"""`helpline staff add|list|disable`: who works the queue, and how to reach them."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy import func, select

from bot.conversation.helpline import Helpline
from bot.core.errors import HelplineError
from bot.domain.passwords import WeakPassword, check_strength, hash_password
from bot.domain.reach import check_staff_phone
from bot.domain.staff import ROLES, find_staff, normalise_email, parse_chat_id, parse_languages
from storage.models import Staff


def read_password() -> str:
    """From standard input when it is piped (scripts), otherwise asked twice without echo."""
    if sys.stdin is None:
        raise HelplineError("no password given on standard input")
    if not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise HelplineError("the two passwords differ; nothing was changed")
    if not password:
        raise HelplineError("no password given on standard input")
    try:
        check_strength(password)
    except WeakPassword as exc:
        raise HelplineError(str(exc)) from None
    return password


async def add(services: Helpline, args: argparse.Namespace) -> int:
    email = normalise_email(args.email)
    name = args.name.strip()
    if not name:
        raise HelplineError("--name must not be empty")
    languages = parse_languages(args.languages)
    chat_id = parse_chat_id(args.telegram_chat_id)
    phone = check_staff_phone(args.phone or "")
    await services.migrate()
    async with services.sessions() as session:
        taken = await session.scalar(select(Staff.id).where(func.lower(Staff.email) == email))
    if taken is not None:
        raise HelplineError(f"staff member {email} already exists")
    password_hash = hash_password(read_password())
    async with services.sessions.begin() as session:
        session.add(
            Staff(
                email=email,
                name=name,
                role=args.role,
                password_hash=password_hash,
                telegram_chat_id=chat_id,
                phone=phone,
                languages=languages,
                active=True,
                session_version=1,
                created_at=services.now(),
            )
        )
    print(f"added {args.role} {email}")
    return 0


async def list_staff(services: Helpline, args: argparse.Namespace) -> int:
    await services.migrate()
    async with services.sessions() as session:
        rows = list(await session.scalars(select(Staff).order_by(Staff.role, Staff.email)))
    if not rows:
        print("no staff yet: add the first admin with `helpline staff add EMAIL --role admin`")
    for staff in rows:
        state = "active" if staff.active else "disabled"
        telegram = "telegram" if staff.telegram_chat_id else "-"
        print(
            f"{staff.email:<32} {staff.name:<24} {staff.role:<8} {state:<8} "
            f"{telegram:<8} {staff.languages}"
        )
    return 0


async def disable(services: Helpline, args: argparse.Namespace) -> int:
    email = normalise_email(args.email)
    await services.migrate()
    async with services.sessions.begin() as session:
        staff = await find_staff(session, email)
        if not staff.active:
            raise HelplineError(f"staff member {email} is already disabled")
        staff.active = False
        staff.session_version += 1  # every dashboard session of theirs stops working at once
    print(f"disabled {email}; their open callbacks stay assigned until reassigned")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("staff", help="officers, managers and admins")
    sub = p.add_subparsers(dest="staff_command", required=True)
    a = sub.add_parser("add", help="add a staff member (password from stdin or asked twice)")
    a.add_argument("email")
    a.add_argument("--name", required=True)
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--telegram-chat-id", default=None)
    a.add_argument("--phone", default=None, help="rung first for calls through the helpline")
    a.add_argument("--languages", default="en", help="codes they speak, e.g. en,pl")
    a.set_defaults(run=add)
    sub.add_parser("list", help="everyone, with role and state").set_defaults(run=list_staff)
    d = sub.add_parser("disable", help="stop a staff member signing in or taking callbacks")
    d.add_argument("email")
    d.set_defaults(run=disable)
