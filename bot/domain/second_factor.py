"""Staff second factor: TOTP from an authenticator app, and one-time recovery codes.

Offered to everyone; managers and admins must have it, because they see every case and
every account. The secret is encrypted at rest; recovery codes are kept only as hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import RecoveryCode, Staff

REQUIRED_FOR = frozenset({"manager", "admin"})
RECOVERY_CODES = 10
STEP = timedelta(seconds=30)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # as the references: easy to read and type


def required(staff: Staff) -> bool:
    return staff.role in REQUIRED_FOR


def enabled(staff: Staff) -> bool:
    return staff.totp_enabled_at is not None and bool(staff.totp_secret)


def begin(staff: Staff) -> str:
    """A new secret, kept (encrypted) but not yet in force until a code from it is confirmed."""
    staff.totp_secret = pyotp.random_base32()
    staff.totp_enabled_at, staff.totp_last_step = None, None
    return staff.totp_secret


def setup_uri(staff: Staff, issuer: str) -> str:
    return pyotp.TOTP(staff.totp_secret or "").provisioning_uri(
        name=staff.email, issuer_name=issuer
    )


def code_matches(staff: Staff, code: str, now: datetime) -> bool:
    """A six-digit code from the app, one step either side allowed for a slow clock; each
    step's code is accepted once, so a code seen over someone's shoulder is already spent."""
    digits = "".join(ch for ch in code if ch.isdigit())
    if not staff.totp_secret or len(digits) != 6:
        return False
    totp = pyotp.TOTP(staff.totp_secret)
    for offset in (-STEP, timedelta(0), STEP):
        at = now + offset
        step = totp.timecode(at)
        if hmac.compare_digest(totp.at(at), digits) and step > (staff.totp_last_step or -1):
            staff.totp_last_step = step
            return True
    return False


def _hash(code: str) -> str:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normal.encode()).hexdigest()  # random codes: a plain hash suffices


async def confirm(session: AsyncSession, staff: Staff, now: datetime) -> list[str]:
    """Put the second factor in force; returns new recovery codes, shown once and kept hashed."""
    staff.totp_enabled_at = now
    await session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
    codes = [
        "-".join("".join(secrets.choice(CODE_ALPHABET) for _ in range(5)) for _ in range(2))
        for _ in range(RECOVERY_CODES)
    ]
    session.add_all(RecoveryCode(staff_id=staff.id, code_hash=_hash(c)) for c in codes)
    return codes


async def use_recovery_code(session: AsyncSession, staff: Staff, code: str, now: datetime) -> bool:
    """True, and the code is spent, when it is one of this person's unused recovery codes."""
    wanted = _hash(code)
    unused = await session.scalars(
        select(RecoveryCode).where(
            RecoveryCode.staff_id == staff.id, RecoveryCode.used_at.is_(None)
        )
    )
    for row in unused:
        if hmac.compare_digest(row.code_hash, wanted):
            row.used_at = now
            return True
    return False


async def switch_off(session: AsyncSession, staff: Staff) -> None:
    """An admin's reset: the person sets a new authenticator at their next sign-in."""
    staff.totp_secret, staff.totp_enabled_at, staff.totp_last_step = None, None, None
    await session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.id))
