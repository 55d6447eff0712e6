"""The reach flags on the dashboard (both stores): "Parent replied (N)" on Today, the queue and
the case until the officer marks it read (audited); "Unreachable by text" beside it; and
"Voicemail left" offered, and accepted, only where the parent said a voicemail is safe."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from bot.core.services import Services
from storage.models import AuditEntry, CallAttempt, Callback, Contact
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in
from tests.parent import Parent


async def _reply(services: Services, contact_id: int | None, text: str) -> None:
    """The parent writes again after the intake, on the channel they used."""
    async with services.sessions() as session:
        contact = await session.get(Contact, contact_id)
        assert contact is not None
    await Parent(services, contact.channel, contact.address).say(text)


async def test_a_parent_reply_shows_on_today_the_queue_and_the_case_until_read(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    await _reply(services, enquiry.contact_id, "Any time on Tuesday is fine.")
    csrf = await sign_in(client, "olu@example.org")
    flag = "↩ Parent replied (1)"
    assert flag in (await client.get("/staff/today")).text
    assert flag in (await client.get("/staff/callbacks")).text
    url = f"/staff/enquiries/{enquiry.reference}"
    page = (await client.get(url)).text
    assert "The parent replied 1 time</strong>" in page
    assert '<details class="below" id="transcript-panel" open>' in page
    assert "Any time on Tuesday is fine." in page

    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    read = await client.post(f"{url}/replies-read", headers=headers)
    assert read.headers["HX-Redirect"] == url
    assert "Parent replied" not in (await client.get("/staff/today")).text
    assert "The parent replied" not in (await client.get(url)).text
    async with services.sessions() as session:
        audited = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "read replies")
        )
    assert audited is not None and audited.enquiry_id == enquiry.id and audited.detail == "1"


async def test_unreachable_by_text_shows_on_today_and_the_case(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    async with services.sessions.begin() as session:
        callback = await session.scalar(select(Callback))
        assert callback is not None
        callback.text_unreachable_at = services.now()
    await sign_in(client, "olu@example.org")
    assert "Unreachable by text" in (await client.get("/staff/today")).text
    page = (await client.get(f"/staff/enquiries/{enquiry.reference}")).text
    assert 'id="text-unreachable"' in page and "ring instead" in page


async def test_voicemail_left_only_where_the_parent_said_it_is_safe(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org")
    unsafe = await enquire(services, voicemail_ok=False)
    safe = await enquire(services)
    csrf = await sign_in(client, "olu@example.org")
    page = (await client.get(f"/staff/enquiries/{unsafe.reference}")).text
    assert "No voicemail: the parent did not say one is safe." in page
    assert 'value="voicemail"' not in page
    page = (await client.get(f"/staff/enquiries/{safe.reference}")).text
    assert "The parent said a voicemail is safe." in page and 'value="voicemail"' in page

    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    forged = await client.post(
        f"/staff/enquiries/{unsafe.reference}/attempt",
        data={"outcome": "voicemail"},
        headers=headers,
    )
    assert forged.status_code == 422 and "did not say a voicemail is safe" in forged.text
    async with services.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(CallAttempt)) == 0
