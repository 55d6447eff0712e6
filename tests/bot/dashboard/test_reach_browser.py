"""The "Reach the parent" panel in a real Chromium: an officer saves their phone, sees why a
call cannot start without Twilio, and sends a parent a message that is logged as an attempt."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.services import Services
from storage.models import OutboxMessage
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.bot.dashboard.test_browser import live, page, sign_in  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("HELPLINE_SCREENSHOTS")  # a folder, to look at the page by eye


async def test_officer_texts_a_parent_from_the_case(
    live: tuple[Services, str],  # noqa: F811
    page: Any,  # noqa: F811
) -> None:
    services, url = live
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    await sign_in(page, url, "olu@example.org")
    await page.goto(f"{url}/staff/enquiries/{enquiry.reference}")

    panel = page.locator("#reach")
    await panel.get_by_label("My phone for calls").fill("0770 090 0555")
    await panel.get_by_role("button", name="Save").click()
    await page.get_by_text("Saved: the helpline will ring +447700900555.").wait_for()
    # No Twilio on this service: the panel says why there is no call button.
    assert await panel.get_by_text("Calls through the helpline's number need Twilio").count() == 1

    await panel.locator("input[value=ring_us]").check()
    await panel.get_by_role("button", name="Send message").click()
    await page.get_by_text("Message logged as an attempt. Queued to send by telegram.").wait_for()
    if SHOTS:
        for width, height in ((1366, 768), (390, 844)):
            await page.set_viewport_size({"width": width, "height": height})
            await panel.scroll_into_view_if_needed()
            await page.screenshot(path=f"{SHOTS}/reach-{width}.png", full_page=False)

    await page.reload()
    assert await page.locator("#attempts").get_by_text("Message sent").count() == 1
    assert await page.locator("#texts").get_by_text("pending").count() == 1
    async with services.sessions() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "officer"))
        assert row is not None and enquiry.reference in row.payload["text"]
        assert "please ring us on" in row.payload["text"]
