"""Today, taking a callback, and answers beside each form on the enquiry page (both stores)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from bot.core.services import Services
from storage.models import Callback, RotaDay, Staff
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in
from tests.conftest import FakeClock


def section(page: str, name: str) -> str:
    """The HTML of one Today section, from its heading to the next."""
    found = re.search(rf'<section aria-labelledby="h-{name}">(.*?)</section>', page, re.S)
    assert found, name
    return found.group(1)


async def _make_overdue(services: Services, enquiry_id: int, clock: FakeClock) -> None:
    async with services.sessions.begin() as session:
        row = await session.scalar(select(Callback).where(Callback.enquiry_id == enquiry_id))
        assert row is not None
        row.due_at = clock() - timedelta(minutes=5)


async def test_an_admin_lands_on_today_with_the_unassigned_overdue_callback_and_no_rota(
    services: Services, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await add_staff(services, "ada@example.org", role="admin")
    late, later = await enquire(services), await enquire(services)
    await _make_overdue(services, late.id, clock)
    await sign_in(client, "ada@example.org")  # asserts HX-Redirect: /staff/today
    assert (await client.get("/staff")).headers["location"] == "/staff/today"
    page = (await client.get("/staff/today")).text
    assert "No duty rota is set" in page and '<a href="/staff/rota">Set the duty rota</a>' in page
    overdue = section(page, "overdue")
    assert late.reference in overdue and "Take it" in overdue and later.reference not in overdue
    assert later.reference in section(page, "unassigned")


async def test_an_officer_sees_their_own_and_the_unassigned_a_manager_sees_everyones(
    services: Services, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    olu = await add_staff(services, "olu@example.org")
    await add_staff(services, "bea@example.org")
    await add_staff(services, "max@example.org", role="manager")
    async with services.sessions.begin() as session:
        session.add(RotaDay(weekday=0, staff_id=olu.id))  # Monday: Olu on duty
    olus = await enquire(services)
    await _make_overdue(services, olus.id, clock)
    async with services.sessions.begin() as session:
        rota = await session.get(RotaDay, 0)
        assert rota is not None
        rota.staff_id = None
    nobodys = await enquire(services)
    await sign_in(client, "bea@example.org")
    page = (await client.get("/staff/today")).text
    assert nobodys.reference in page and olus.reference not in page
    assert "No duty rota is set" in page and "Ask a manager" in page
    await sign_in(client, "max@example.org")
    page = (await client.get("/staff/today")).text
    assert nobodys.reference in section(page, "unassigned")
    assert olus.reference in section(page, "overdue") and "Olu" in section(page, "overdue")
    assert "Everyone's open callbacks" in page


async def test_take_it_assigns_the_callback_once(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    await add_staff(services, "bea@example.org")
    enquiry = await enquire(services)
    csrf = await sign_in(client, "olu@example.org")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    taken = await client.post(f"/staff/enquiries/{enquiry.reference}/take", headers=headers)
    assert taken.headers["HX-Redirect"] == f"/staff/enquiries/{enquiry.reference}?done=take"
    async with services.sessions() as session:
        callback = await session.scalar(select(Callback))
        olu = await session.scalar(select(Staff).where(Staff.email == "olu@example.org"))
    assert callback is not None and olu is not None
    assert callback.assigned_to == olu.id and callback.status == "assigned"
    csrf = await sign_in(client, "bea@example.org")
    again = await client.post(
        f"/staff/enquiries/{enquiry.reference}/take",
        headers={"X-CSRFToken": csrf, "HX-Request": "true"},
    )
    assert again.status_code == 422 and "Someone else has already taken" in again.text
    page = (await client.get("/staff/today")).text
    assert enquiry.reference not in page  # Olu's now, and Bea is an officer


async def test_no_answer_shows_the_attempt_and_a_confirmation_beside_its_form(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    csrf = await sign_in(client, "olu@example.org")
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    url = f"/staff/enquiries/{enquiry.reference}"
    assert "No contact attempt yet." in (await client.get(url)).text
    done = await client.post(f"{url}/attempt", data={"outcome": "no_answer"}, headers=headers)
    assert done.headers["HX-Redirect"] == f"{url}?done=attempt"
    page = (await client.get(f"{url}?done=attempt")).text
    assert "No contact attempt yet." not in page
    assert "Not reached yet: 1 attempt, the last Mon 23 Nov 10:00 (no answer)" in page
    assert 'id="m-attempt" class="form-message" role="alert" tabindex="-1" data-focus>' in page
    assert "✔ Attempt logged." in page
    refused = await client.post(f"{url}/attempt", data={"outcome": "bad"}, headers=headers)
    assert refused.status_code == 422 and "Choose what happened on the call." in refused.text
    assert 'hx-target="#m-attempt"' in page  # the refusal lands beside the form
    assert "data-focus" not in (await client.get(f"{url}?done=nonsense")).text


async def test_close_asks_first_and_the_rota_header_is_named(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "max@example.org", role="manager")
    enquiry = await enquire(services)
    await sign_in(client, "max@example.org")
    page = (await client.get(f"/staff/enquiries/{enquiry.reference}")).text
    close = re.search(r'<form [^>]*id="close-form"[^>]*>', page, re.S)
    assert close and f'hx-confirm="Close enquiry {enquiry.reference}?' in close.group(0)
    rota = (await client.get("/staff/rota")).text
    assert "<th></th>" not in rota and '<th scope="col">Change</th>' in rota
