"""`helpline staff add|list|disable`: who works the queue, and how to reach them."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import HelplineError
from bot.core.i18n import LANGUAGE_NAMES
from storage.models import Staff

ROLES = ("officer", "manager", "admin")  # each role can do all that the ones before it can
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_EMAIL = 255  # Staff.email's column


def check_email(raw: str) -> str:
    """The address in lower case, or a readable ValueError (shared by the CLI and the dashboard)."""
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise ValueError(f"{raw[:64]!r} is not an email address")
    return email


def normalise_email(raw: str) -> str:
    try:
        return check_email(raw)
    except ValueError as exc:
        raise HelplineError(str(exc)) from None


async def find_staff(session: AsyncSession, email: str) -> Staff:
    """The staff member with this email, or a readable error naming the command to add them."""
    staff = await session.scalar(select(Staff).where(func.lower(Staff.email) == email.lower()))
    if staff is None:
        raise HelplineError(
            f"no staff member with email {email} (add them with `helpline staff add`)"
        )
    return staff


def parse_languages(raw: str) -> str:
    codes = [code.strip().lower() for code in raw.split(",") if code.strip()]
    unknown = [code for code in codes if code not in LANGUAGE_NAMES]
    if unknown or not codes:
        raise HelplineError(
            f"unknown language {', '.join(unknown) or repr(raw)}: use codes such as "
            + ",".join(sorted(LANGUAGE_NAMES))
        )
    return ",".join(dict.fromkeys(codes))


def parse_chat_id(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"-?\d{1,20}", raw.strip()):
        raise HelplineError(f"--telegram-chat-id {raw!r} must be a number such as 123456789")
    return raw.strip()
