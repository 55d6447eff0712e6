"""Staff accounts: change one's password, an admin's reset, and the second factor (TOTP with
recovery codes), offered to everyone and required of managers and admins."""

from __future__ import annotations

import re

import httpx
import pyotp
from sqlalchemy import select
from starlette.applications import Starlette

from bot.core.services import Services
from storage.models import AuditEntry, Staff
from tests.bot.dashboard.helpers import PASSWORD, add_staff, client_for, sign_in, token
from tests.conftest import FakeClock

HTMX = {"HX-Request": "true"}
NEW_PASSWORD = "violet kettle sunrise 84"


async def post(client: httpx.AsyncClient, csrf: str, url: str, **data: str) -> httpx.Response:
    return await client.post(url, data=data, headers={**HTMX, "X-CSRFToken": csrf})


async def password_step(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    csrf = token(await client.get("/staff/login"))
    return await post(client, csrf, "/staff/login", email=email, password=password)


async def actions(services: Services) -> list[tuple[str, str | None]]:
    async with services.sessions() as session:
        rows = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.detail) for row in rows]


async def test_a_password_change_needs_the_current_one_and_ends_other_sessions(
    services: Services, app: Starlette, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    async with client_for(app) as other_device:
        await sign_in(other_device, "olu@example.org")
        csrf = await sign_in(client, "olu@example.org")
        url = "/staff/account/password"
        wrong = await post(client, csrf, url, current="guess", new=NEW_PASSWORD, again=NEW_PASSWORD)
        assert wrong.status_code == 403
        weak = await post(client, csrf, url, current=PASSWORD, new="olu@example.org1", again="x")
        assert weak.status_code == 422 and "differ" in weak.text
        guessable = "password1234"
        weak = await post(client, csrf, url, current=PASSWORD, new=guessable, again=guessable)
        assert weak.status_code == 422 and "less guessable" in weak.text
        done = await post(client, csrf, url, current=PASSWORD, new=NEW_PASSWORD, again=NEW_PASSWORD)
        assert done.status_code == 200 and "Other sessions are ended" in done.text
        assert (await client.get("/staff/queue")).status_code == 200  # this one goes on
        assert (await other_device.get("/staff/queue")).status_code == 303  # that one is out
    async with client_for(app) as fresh:
        assert (await password_step(fresh, "olu@example.org", PASSWORD)).status_code == 401
        assert (await password_step(fresh, "olu@example.org", NEW_PASSWORD)).status_code == 200
    assert ("failed password change", None) in await actions(services)
    assert ("change password", None) in await actions(services)


async def test_an_admin_reset_ends_that_persons_sessions(
    services: Services, app: Starlette, client: httpx.AsyncClient
) -> None:
    olu = await add_staff(services, "olu@example.org")
    await add_staff(services, "ada@example.org", role="admin")
    async with client_for(app) as officer:
        await sign_in(officer, "olu@example.org")
        csrf = await sign_in(client, "ada@example.org")
        url = f"/staff/admin/staff/{olu.id}"
        weak = await post(client, csrf, url, change="password", password="password1234")
        assert weak.status_code == 422
        reset = await post(client, csrf, url, change="password", password=NEW_PASSWORD)
        assert reset.status_code == 200
        assert (await officer.get("/staff/queue")).status_code == 303
        assert (await client.get("/staff/admin/staff")).status_code == 200  # the admin stays
    async with client_for(app) as fresh:
        assert (await password_step(fresh, "olu@example.org", NEW_PASSWORD)).status_code == 200


async def test_an_officer_turns_on_totp_then_signs_in_with_a_code_or_a_recovery_code(
    services: Services, app: Starlette, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    csrf = await sign_in(client, "olu@example.org")  # officers may go without, at first
    started = await post(client, csrf, "/staff/account/second-factor")
    found = re.search(r'id="totp-key">([A-Z2-7]+)<', started.text)
    assert found, started.text
    app_on_phone = pyotp.TOTP(found.group(1))
    url = "/staff/account/second-factor/confirm"
    assert "does not match" in (await post(client, csrf, url, code="000000")).text
    confirmed = await post(client, csrf, url, code=app_on_phone.at(clock()))
    codes = re.findall(r"<code>([A-Z0-9-]{11})</code>", confirmed.text)
    assert len(codes) == 10
    async with services.sessions() as session:
        staff = await session.scalar(select(Staff).where(Staff.email == "olu@example.org"))
        assert staff is not None and staff.totp_enabled_at is not None
    async with client_for(app) as browser:
        first = await password_step(browser, "olu@example.org", PASSWORD)
        assert first.headers["HX-Redirect"] == "/staff/login/code"
        assert "helpline_staff" not in browser.cookies  # not signed in after the password
        csrf = token(await browser.get("/staff/login/code"))
        wrong = await post(browser, csrf, "/staff/login/code", code="123456")
        assert wrong.status_code == 401
        clock.advance(seconds=30)  # the code used to turn it on is spent
        now_code = app_on_phone.at(clock())
        right = await post(browser, csrf, "/staff/login/code", code=now_code)
        assert right.headers["HX-Redirect"] == "/staff/today"
        assert (await browser.get("/staff/queue")).status_code == 200
    async with client_for(app) as onlooker:  # someone who saw that code cannot use it again
        await password_step(onlooker, "olu@example.org", PASSWORD)
        csrf = token(await onlooker.get("/staff/login/code"))
        assert (await post(onlooker, csrf, "/staff/login/code", code=now_code)).status_code == 401
    for attempt in range(2):  # a recovery code works once
        async with client_for(app) as lost_phone:
            await password_step(lost_phone, "olu@example.org", PASSWORD)
            csrf = token(await lost_phone.get("/staff/login/code"))
            answer = await post(lost_phone, csrf, "/staff/login/code", code=codes[0].lower())
            assert answer.status_code == (200 if attempt == 0 else 401)
    logged = await actions(services)
    assert ("failed sign-in", "wrong second-factor code") in logged
    assert ("sign in", "with recovery code") in logged


async def test_a_manager_must_set_up_totp_before_reaching_any_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    async with services.sessions.begin() as session:
        session.add(
            Staff(
                email="sue@example.org",
                name="Sue",
                role="manager",
                password_hash=(await add_staff(services, "x@example.org")).password_hash,
                languages="en",
                active=True,
                session_version=1,
                created_at=services.now(),
            )
        )
    answer = await password_step(client, "sue@example.org", PASSWORD)
    assert answer.headers["HX-Redirect"] == "/staff/account"
    for path in ("/staff/queue", "/staff/callbacks", "/staff/reports", "/staff/audit"):
        page = await client.get(path)
        assert page.status_code == 303 and page.headers["location"] == "/staff/account", path
    account = await client.get("/staff/account")
    assert account.status_code == 200 and "set up a second factor" in account.text
