"""Staff find an urgent conversation not yet an enquiry and read it; every look is audited."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from bot.conversation.router import Inbound
from bot.core.services import Services
from storage.models import AuditEntry, Conversation
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in

WORRY = "My son said he wants to kill himself tonight"


async def say(services: Services, address: str, text: str) -> None:
    inbound = Inbound("webchat", address, uuid.uuid4().hex, text, services.now())
    await services.router.deliver(inbound)


async def test_an_urgent_web_chat_without_a_number_is_found_and_read(
    services: Services, client: httpx.AsyncClient
) -> None:
    await enquire(services)  # an ordinary enquiry: not listed
    address = uuid.uuid4().hex
    await say(services, address, "")
    await say(services, address, "yes")
    await say(services, address, WORRY)
    await add_staff(services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    page = await client.get("/staff/safeguarding")
    assert page.status_code == 200
    async with services.sessions() as session:
        conversation = (
            await session.scalars(select(Conversation).where(Conversation.enquiry_id.is_(None)))
        ).one()
    assert f"/staff/safeguarding/conversations/{conversation.id}" in page.text
    assert "not yet an enquiry" in page.text and "self-harm" in page.text
    assert WORRY not in page.text  # the overview never shows the parent's words
    read = await client.get(f"/staff/safeguarding/conversations/{conversation.id}")
    assert read.status_code == 200 and WORRY in read.text
    assert read.headers["cache-control"] == "no-store"
    assert (await client.get("/staff/safeguarding/conversations/999999")).status_code == 404
    async with services.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action)))
    assert "view safeguarding" in actions and "view urgent conversation" in actions


async def test_signed_out_visitors_see_nothing(
    services: Services, client: httpx.AsyncClient
) -> None:
    address = uuid.uuid4().hex
    await say(services, address, "")
    await say(services, address, WORRY)
    response = await client.get("/staff/safeguarding")
    assert response.status_code in {302, 303, 401, 403}
    assert "kill" not in response.text
