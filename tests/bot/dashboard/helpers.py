"""Staff, enquiries and signed-in clients for the dashboard tests, built through the real code."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import pyotp

from bot.core.services import Services
from bot.domain.passwords import hash_password
from storage.models import Enquiry, Staff
from tests.parent import Parent

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# Managers and admins must have a second factor: the helpers give them one and remember the
# clock their app reads, so that sign_in can type the current code.
AUTHENTICATORS: dict[str, Callable[[], datetime]] = {}


SIGN_INS: dict[str, int] = {}


def totp_code(email: str) -> str:
    """The app's code; each code works once, so repeated sign-ins at one (fake) time use the
    steps either side that the server also accepts, oldest first."""
    used = SIGN_INS[email] = SIGN_INS.get(email, -1) + 1
    at = AUTHENTICATORS[email]() + timedelta(seconds=30 * (used % 3 - 1))
    return pyotp.TOTP(TOTP_SECRET).at(at)


async def add_staff(services: Services, email: str, role: str = "officer") -> Staff:
    with_totp = role in {"manager", "admin"}
    if with_totp:
        AUTHENTICATORS[email], SIGN_INS[email] = services.now, -1
    async with services.sessions.begin() as session:
        staff = Staff(
            email=email,
            name=email.split("@")[0].title(),
            role=role,
            password_hash=hash_password(PASSWORD),
            languages="en",
            active=True,
            session_version=1,
            created_at=services.now(),
            totp_secret=TOTP_SECRET if with_totp else None,
            totp_enabled_at=services.now() if with_totp else None,
        )
        session.add(staff)
    return staff


async def enquire(
    services: Services,
    *,
    description: str = "The school says they cannot meet his needs.",
    channel: str = "telegram",
    voicemail_ok: bool = True,
    language: str | None = None,
) -> Enquiry:
    """A parent completes the intake through the router, as on a real channel."""
    address = str(uuid.uuid4().int % 10**9)
    parent = Parent(services, channel, address, language)
    await parent.complete(description=description, voicemail_ok="yes" if voicemail_ok else "no")
    async with services.sessions() as session:
        from sqlalchemy import select

        enquiry = await session.scalar(select(Enquiry).order_by(Enquiry.id.desc()).limit(1))
    assert enquiry is not None
    return enquiry


def token(page: httpx.Response) -> str:
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert found, page.text[:500]
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    """Sign in as a browser would; returns the CSRF token for later requests."""
    page = await client.get("/staff/login")
    csrf = token(page)
    response = await client.post(
        "/staff/login",
        data={"email": email, "password": password},
        headers={"X-CSRFToken": csrf, "HX-Request": "true"},
    )
    assert response.status_code == 200, response.text
    if response.headers["HX-Redirect"] == "/staff/login/code":
        response = await client.post(
            "/staff/login/code",
            data={"code": totp_code(email)},
            headers={"X-CSRFToken": csrf, "HX-Request": "true"},
        )
        assert response.status_code == 200, response.text
    assert response.headers["HX-Redirect"] == "/staff/today"
    return csrf


def client_for(app: object, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
