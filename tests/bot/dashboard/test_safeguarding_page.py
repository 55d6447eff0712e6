"""The safeguarding page is a work queue: each urgent concern with its number, assigned,
acknowledged and closed with what was done; overdue ones stand out; every step is audited."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from bot.conversation.router import Inbound
from bot.core.services import Services
from storage.models import AuditEntry, Callback, CaseNote, Conversation, Enquiry
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in
from tests.conftest import FakeClock

WORRY = "My son said he wants to kill himself tonight"


async def say(services: Services, address: str, text: str, channel: str = "webchat") -> None:
    inbound = Inbound(channel, address, uuid.uuid4().hex, text, services.now())
    await services.router.deliver(inbound)


async def concern(services: Services, phone: str | None = None) -> Enquiry:
    """A parent at consent writes the worry (and a safe number, if given)."""
    address = uuid.uuid4().hex
    await say(services, address, "")
    await say(services, address, WORRY)
    if phone:
        await say(services, address, phone)
    async with services.sessions() as session:
        enquiry = await session.scalar(select(Enquiry).order_by(Enquiry.id.desc()).limit(1))
    assert enquiry is not None and enquiry.urgent
    return enquiry


async def actions(services: Services) -> list[str]:
    async with services.sessions() as session:
        return list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


async def test_an_urgent_web_chat_without_a_number_is_listed_and_read(
    services: Services, client: httpx.AsyncClient
) -> None:
    await enquire(services)  # an ordinary enquiry: not listed
    enquiry = await concern(services)
    await add_staff(services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    page = await client.get("/staff/safeguarding")
    assert page.status_code == 200
    assert "Urgent concerns to act on (1)" in page.text
    assert f'href="/staff/enquiries/{enquiry.reference}"' in page.text
    assert "No number given: web chat, read the conversation." in page.text
    assert "Still in the intake" in page.text and "self-harm" in page.text
    assert WORRY not in page.text  # the overview never shows the parent's words
    async with services.sessions() as session:
        statement = select(Conversation).where(Conversation.enquiry_id == enquiry.id)
        conversation = (await session.scalars(statement)).one()
    assert f"/staff/safeguarding/conversations/{conversation.id}" in page.text
    read = await client.get(f"/staff/safeguarding/conversations/{conversation.id}")
    assert read.status_code == 200 and WORRY in read.text
    assert read.headers["cache-control"] == "no-store"
    assert (await client.get("/staff/safeguarding/conversations/999999")).status_code == 404
    assert {"view safeguarding", "view urgent conversation"} <= set(await actions(services))
    # Every officer's queue says so, even when the concern is nobody's yet.
    queue = await client.get("/staff/queue")
    assert "⚑ 1 urgent safeguarding concern open" in queue.text


async def test_an_officer_assigns_acknowledges_and_closes_the_loop(
    services: Services, client: httpx.AsyncClient
) -> None:
    enquiry = await concern(services, phone="07700 900456")
    officer = await add_staff(services, "olu@example.org", "officer")
    csrf = await sign_in(client, "olu@example.org")
    page = await client.get("/staff/safeguarding")
    assert '<a href="tel:+447700900456">07700 900456</a>' in page.text
    assert "Not yet acknowledged" in page.text
    base = f"/staff/safeguarding/concerns/{enquiry.reference}"
    headers = {"X-CSRFToken": csrf, "HX-Request": "true"}
    assigned = await client.post(
        f"{base}/assign", data={"officer": str(officer.id)}, headers=headers
    )
    assert assigned.headers["HX-Redirect"] == "/staff/safeguarding"
    await client.post(f"{base}/acknowledge", headers=headers)
    page = await client.get("/staff/safeguarding")
    assert "✔ Acknowledged by Olu" in page.text
    refused = await client.post(f"{base}/handled", data={"what": "  "}, headers=headers)
    assert refused.status_code == 422 and "Say what was done" in refused.text
    what = "Rang mum at 10:20; referred to children's services."
    done = await client.post(f"{base}/handled", data={"what": what}, headers=headers)
    assert done.headers["HX-Redirect"] == "/staff/safeguarding"
    page = await client.get("/staff/safeguarding")
    assert "Urgent concerns to act on (0)" in page.text and enquiry.reference in page.text
    async with services.sessions() as session:
        callback = (await session.scalars(select(Callback))).one()
        note = (await session.scalars(select(CaseNote))).one()
        closed = await session.get(Enquiry, enquiry.id)
    assert callback.status == "closed" and callback.handled_by == officer.id
    assert callback.assigned_to == officer.id and callback.acknowledged_by == officer.id
    assert closed is not None and closed.status == "closed" and what in note.text
    assert {"reassign", "acknowledge concern", "handle concern"} <= set(await actions(services))
    again = await client.post(f"{base}/handled", data={"what": what}, headers=headers)
    assert again.status_code == 422 and "already been closed" in again.text


async def test_an_overdue_concern_stands_out(
    services: Services, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    late = await concern(services)  # Monday 10:00, due 11:00
    clock.advance(hours=2)
    await concern(services)  # Monday 12:00, due 13:00
    await add_staff(services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    page = await client.get("/staff/safeguarding")
    assert page.text.count('class="concern concern-overdue"') == 1
    assert page.text.count('class="concern"') == 1
    first = page.text.index('class="concern')
    assert page.text.index(late.reference) > first  # the overdue one comes first
    assert page.text.index(late.reference) < page.text.index('class="concern"')
    assert page.text.count("⚠ Overdue") == 1


async def test_signed_out_visitors_see_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    address = uuid.uuid4().hex
    await say(services, address, "")
    await say(services, address, WORRY)
    response = await client.get("/staff/safeguarding")
    assert response.status_code in {302, 303, 401, 403}
    assert "kill" not in response.text
    forged = await client.post("/staff/safeguarding/concerns/PP-XXXXXX/handled", data={"what": "x"})
    assert forged.status_code in {401, 403}
