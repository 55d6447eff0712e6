"""An officer sees on the enquiry page when the parent cannot be messaged, and rings instead."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from bot.core.services import Services
from storage.models import Contact
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in


async def test_a_blocked_or_opted_out_contact_is_shown_on_the_enquiry(
    services: Services, client: httpx.AsyncClient
) -> None:
    enquiry = await enquire(services, channel="telegram")
    await add_staff(services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    page = await client.get(f"/staff/enquiries/{enquiry.reference}")
    assert page.status_code == 200 and "Cannot be messaged" not in page.text
    async with services.sessions.begin() as session:
        await session.execute(
            update(Contact)
            .where(Contact.id == enquiry.contact_id)
            .values(unreachable=True, opted_out=True)
        )
    page = await client.get(f"/staff/enquiries/{enquiry.reference}")
    assert "Cannot be messaged on telegram" in page.text
    assert "Opted out of messages on telegram" in page.text
