"""The dashboard over HTTP on SQLite and PostgreSQL: sessions, CSRF, roles, escaping, headers."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from bot.core.services import Services
from storage.models import AuditEntry, Staff
from tests.bot.dashboard.helpers import add_staff, client_for, enquire, sign_in, token
from tests.conftest import FakeClock


async def test_an_officer_signs_in_and_reads_an_enquiry_with_every_view_audited(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    assert (await client.get("/staff/queue")).status_code == 303  # not signed in yet
    await sign_in(client, "olu@example.org")
    listing = await client.get("/staff/callbacks")
    assert enquiry.reference in listing.text
    page = await client.get(f"/staff/enquiries/{enquiry.reference}")
    assert page.status_code == 200
    assert "The school says they cannot meet his needs." in page.text
    assert page.headers["cache-control"] == "no-store"
    async with services.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "view enquiry" in actions and "sign in" in actions


async def test_security_headers_on_every_staff_page(
    services: Services, client: httpx.AsyncClient
) -> None:
    page = await client.get("/staff/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text and " style=" not in page.text
    assert '<label for="email">Email</label>' in page.text
    assert '<label for="password">Password</label>' in page.text
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "path=/staff" in cookie


async def test_a_state_change_without_the_csrf_token_is_refused(
    services: Services, app: Starlette, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    csrf = await sign_in(client, "olu@example.org")
    url = f"/staff/enquiries/{enquiry.reference}/note"
    assert (await client.post(url, data={"note": "x"})).status_code == 403
    forged = await client.post(url, data={"note": "x"}, headers={"X-CSRFToken": csrf[:-2] + "xx"})
    assert forged.status_code == 403
    ok = await client.post(url, data={"note": "Rang school"}, headers={"X-CSRFToken": csrf})
    assert ok.status_code == 303
    # Signing in needs the token too (no login CSRF), and GET changes nothing anywhere.
    async with client_for(app) as stranger:
        refused = await stranger.post(
            "/staff/login", data={"email": "olu@example.org", "password": "x"}
        )
        assert refused.status_code == 403
    assert (await client.get(url)).status_code == 405


async def test_an_officer_is_refused_admin_and_manager_pages(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org", "officer")
    csrf = await sign_in(client, "olu@example.org")
    assert (await client.get("/staff/admin/staff")).status_code == 403
    assert (await client.get("/staff/audit")).status_code == 403
    added = await client.post(
        "/staff/admin/staff",
        data={"email": "x@example.org", "name": "X", "role": "admin", "password": "p" * 20},
        headers={"X-CSRFToken": csrf},
    )
    assert added.status_code == 403
    pattern = await client.post("/staff/rota/pattern", data={}, headers={"X-CSRFToken": csrf})
    assert pattern.status_code == 403
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Staff)) == 1


async def test_a_disabled_account_loses_its_session_at_once(
    services: Services, app: Starlette
) -> None:
    officer = await add_staff(services, "olu@example.org")
    await add_staff(services, "ada@example.org", "admin")
    async with client_for(app) as olu, client_for(app) as ada:
        await sign_in(olu, "olu@example.org")
        assert (await olu.get("/staff/queue")).status_code == 200
        csrf = await sign_in(ada, "ada@example.org")
        assert (await ada.get("/staff/admin/staff")).status_code == 200
        disabled = await ada.post(
            f"/staff/admin/staff/{officer.id}",
            data={"change": "disable"},
            headers={"X-CSRFToken": csrf},
        )
        assert disabled.status_code == 303
        dead = await olu.get("/staff/queue")
        assert dead.status_code == 303 and dead.headers["location"] == "/staff/login"


async def test_sessions_end_after_30_idle_minutes_and_12_hours_in_all(
    services: Services, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    await sign_in(client, "olu@example.org")
    signed_in = clock()
    while (await client.get("/staff/queue")).status_code == 200:
        clock.advance(minutes=20)  # busy all day: each request slides the idle timeout on
    assert timedelta(hours=12) < clock() - signed_in <= timedelta(hours=12, minutes=20)
    await sign_in(client, "olu@example.org")
    clock.advance(minutes=31)
    assert (await client.get("/staff/queue")).status_code == 303


async def test_a_parents_html_is_shown_as_text_never_run(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    payload = '<script>alert("x")</script><img src=x onerror="alert(1)"> & more'
    enquiry = await enquire(services, description=payload)
    await sign_in(client, "olu@example.org")
    page = await client.get(f"/staff/enquiries/{enquiry.reference}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text and "<img src=x" not in page.text


async def test_sign_in_is_throttled_without_locking_the_real_officer_out(
    services: Services, app: Starlette, clock: FakeClock
) -> None:
    await add_staff(services, "olu@example.org")
    async with client_for(app, "203.0.113.9") as attacker:
        csrf = token(await attacker.get("/staff/login"))
        for _ in range(5):
            wrong = await attacker.post(
                "/staff/login",
                data={"email": "olu@example.org", "password": "guess"},
                headers={"X-CSRFToken": csrf},
            )
            assert wrong.status_code == 401
        refused = await attacker.post(
            "/staff/login",
            data={"email": "olu@example.org", "password": "correct horse battery staple"},
            headers={"X-CSRFToken": csrf},
        )
        assert refused.status_code == 429
        assert "Try again" in refused.text
    async with client_for(app, "198.51.100.7") as officer:
        await sign_in(officer, "olu@example.org")  # a clean address still gets in
    clock.advance(minutes=1)
    async with client_for(app, "203.0.113.9") as attacker:
        csrf = token(await attacker.get("/staff/login"))
        again = await attacker.post(
            "/staff/login",
            data={"email": "olu@example.org", "password": "guess"},
            headers={"X-CSRFToken": csrf},
        )
        assert again.status_code == 401  # the wait is over, but each failure doubles it
        assert (
            await attacker.post(
                "/staff/login",
                data={"email": "olu@example.org", "password": "guess"},
                headers={"X-CSRFToken": csrf},
            )
        ).status_code == 429


async def test_search_by_phone_number_in_any_format_and_by_reference(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    csrf = await sign_in(client, "olu@example.org")
    for query in ("07700 900123", "+44 7700 900123", enquiry.reference.lower()):
        found = await client.post("/staff/search", data={"q": query}, headers={"X-CSRFToken": csrf})
        assert enquiry.reference in found.text, query
    none = await client.post(
        "/staff/search", data={"q": "01632 960000"}, headers={"X-CSRFToken": csrf}
    )
    assert "No enquiries found" in none.text
    async with services.sessions() as session:
        details = list(
            await session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "search"))
        )
    assert details.count("by phone number") == 3 and "7700" not in "".join(details)
