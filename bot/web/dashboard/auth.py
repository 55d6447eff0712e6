"""Who is signed in: a signed session cookie checked against the store on every request.

The cookie carries only the staff id, the account's session version and two times. It dies
after 30 idle minutes, 12 hours in all, or as soon as the account is disabled or its session
version moves (logout, password or role change by an admin).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from bot.domain.staff import ROLES
from storage.crypto import lookup_hash
from storage.models import LoginAttempt, Staff

log = logging.getLogger(__name__)

COOKIE = "helpline_staff"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)


def has_role(staff: Staff, role: str) -> bool:
    return staff.role in ROLES and ROLES.index(staff.role) >= ROLES.index(role)


class Sessions:
    """Issue, read and end the signed session cookie."""

    def __init__(self, secret: str, secure: bool) -> None:
        self.serializer = URLSafeSerializer(secret, salt="helpline-staff-session")
        self.secure = secure

    def issue(self, response: Response, staff: Staff, issued: datetime, now: datetime) -> None:
        value = self.serializer.dumps(
            {
                "sid": staff.id,
                "ver": staff.session_version,
                "iat": int(issued.timestamp()),
                "seen": int(now.timestamp()),
                "n": secrets.token_urlsafe(8),  # a fresh value at every sign-in
            }
        )
        response.set_cookie(
            COOKIE, value, httponly=True, secure=self.secure, samesite="lax", path="/staff"
        )

    def end(self, response: Response) -> None:
        response.delete_cookie(
            COOKIE, path="/staff", httponly=True, secure=self.secure, samesite="lax"
        )

    async def current(
        self, request: Request, session: AsyncSession, now: datetime
    ) -> tuple[Staff, datetime] | None:
        """The signed-in staff member and when they signed in, or None if the session is dead."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self.serializer.loads(raw)
            staff_id, version = int(data["sid"]), int(data["ver"])
            issued = datetime.fromtimestamp(int(data["iat"]), now.tzinfo)
            seen = datetime.fromtimestamp(int(data["seen"]), now.tzinfo)
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if now - seen > IDLE or now - issued > ABSOLUTE:
            return None
        staff = await session.get(Staff, staff_id)
        if staff is None or not staff.active or staff.session_version != version:
            return None
        return staff, issued


# -- sign-in throttling --------------------------------------------------------------------
WINDOW = timedelta(minutes=15)
LIMIT = 5
FIRST_DELAY = timedelta(seconds=30)
PAIR_LIMIT = 3


def _key(kind: str, value: str) -> str:
    """Emails and addresses are stored as keyed hashes (HMAC with the look-up key), never in
    the clear, and not as plain hashes that a list of emails or addresses would reverse."""
    return kind + ":" + lookup_hash(f"{kind}:{value}")[:40]


@dataclass(frozen=True)
class Keys:
    account: str
    address: str
    pair: str

    @classmethod
    def of(cls, email: str, address: str) -> Keys:
        email = email.strip().casefold()
        return cls(_key("acct", email), _key("addr", address), _key("pair", f"{email}|{address}"))


async def _failures(session: AsyncSession, key: str, now: datetime) -> tuple[int, datetime | None]:
    """Failures for `key` in the window since its last success, and the latest one.

    Both queries look only inside the window (index key, at), however many old rows are kept.
    """
    start = now - WINDOW
    last_success = await session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.key == key, LoginAttempt.at > start, LoginAttempt.succeeded.is_(True)
        )
    )
    since = max(start, last_success) if last_success else start
    count, latest = (
        await session.execute(
            select(func.count(), func.max(LoginAttempt.at)).where(
                LoginAttempt.key == key,
                LoginAttempt.succeeded.is_(False),
                LoginAttempt.at > since,
            )
        )
    ).one()
    return int(count), latest


def _backoff(count: int, latest: datetime | None, now: datetime) -> timedelta | None:
    """From the 5th failure, wait 30 s, then 1, 2, 4 ... minutes (at most the window)."""
    if count < LIMIT or latest is None:
        return None
    wait = min(FIRST_DELAY * 2 ** (count - LIMIT), WINDOW)
    left = latest + wait - now
    return left if left > timedelta(0) else None


async def throttled(session: AsyncSession, keys: Keys, now: datetime) -> timedelta | None:
    """How long this sign-in must wait, or None to go ahead and check the password.

    An address that keeps failing waits, whatever account it tries. An account under attack
    waits only at addresses that have already failed against it: a correct password from an
    address with no recent failures still signs in, so nobody can lock a real officer out.
    """
    wait = _backoff(*await _failures(session, keys.address, now), now)
    if wait:
        return wait
    account_wait = _backoff(*await _failures(session, keys.account, now), now)
    if account_wait:
        pair_count, _ = await _failures(session, keys.pair, now)
        if pair_count >= PAIR_LIMIT:
            return account_wait
    return None


async def remember(session: AsyncSession, keys: Keys, succeeded: bool, now: datetime) -> None:
    """Record the attempt; bot.domain.retention purges old ones nightly (they no longer count)."""
    for key in (keys.account, keys.address, keys.pair):
        session.add(LoginAttempt(key=key, succeeded=succeeded, at=now))
