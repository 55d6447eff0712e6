"""Reaching a parent end to end in a real Chromium, with the fake Telegram Bot API and the fake
Twilio API underneath: "Call the parent" rings the officer from the helpline's number and the
call's own (signed) callbacks log the attempt; an Urdu-speaking parent is texted in Urdu and
their reply, through the real webhook, lands on the case and flags Today; a parent who said
texts are not safe cannot be texted, not even by a forged request."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import Settings
from bot.delivery.build import send_due
from bot.web.app import create_app
from bot.wiring import build_services
from storage.models import Callback, Contact, Enquiry
from tests.bot.channels.conftest import PUBLIC_URL, SERVICE_NUMBER, WEBHOOK_SECRET, count_rows
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.bot.dashboard.test_browser import page, sign_in  # noqa: F401 (fixture)
from tests.conftest import FakeClock
from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeTelegram, update_message
from tests.fakes.twilio_api import FakeTwilio, signed_post_headers
from tests.fakes.twilio_calls import play_call

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("HELPLINE_SCREENSHOTS")  # a folder, to look at the pages by eye
OFFICER_PHONE = "+447700900555"
UPDATES = itertools.count(9000)


@dataclass
class Live:
    services: Services
    url: str
    tg: FakeTelegram
    tw: FakeTwilio


@pytest.fixture
async def live(tmp_path: Path, sqlite_template: Path, clock: FakeClock) -> AsyncIterator[Live]:
    """The app on a real socket, its Telegram and Twilio clients pointed at the fakes."""
    path = tmp_path / "helpline.db"
    shutil.copy(sqlite_template, path)
    tg, tw = FakeTelegram(), FakeTwilio()
    async with LiveServer(tg.app) as tg_server, LiveServer(tw.app) as tw_server:
        settings = replace(
            Settings(),
            database_url=f"sqlite+aiosqlite:///{path}",
            languages=("en", "ur"),
            public_url=PUBLIC_URL,
            telegram_bot_token=tg.token,
            telegram_webhook_secret=WEBHOOK_SECRET,
            telegram_api_base_url=f"{tg_server.url}/bot",
            twilio_account_sid=tw.account_sid,
            twilio_auth_token=tw.auth_token,
            twilio_phone_number=SERVICE_NUMBER,
            twilio_api_base_url=tw_server.url,
        )
        services = build_services(settings, now=clock)
        app = create_app(settings, services=services, migrate=False)
        async with LiveServer(app) as server:
            yield Live(services, server.url, tg, tw)
        await services.close()


async def _officer(live: Live, phone: str | None = OFFICER_PHONE) -> None:
    staff = await add_staff(live.services, "olu@example.org")
    async with live.services.sessions.begin() as session:
        found = await session.get(type(staff), staff.id)
        assert found is not None
        found.phone = phone


async def _urdu(live: Live) -> tuple[Enquiry, int]:
    """A Telegram parent who chose Urdu: their enquiry, and their chat id."""
    enquiry = await enquire(live.services, language="en")
    async with live.services.sessions.begin() as session:
        found = await session.get(Enquiry, enquiry.id)
        contact = await session.get(Contact, enquiry.contact_id)
        assert found is not None and contact is not None
        found.language = contact.language = "ur"
        return found, int(contact.address)


async def _sent_until(live: Live, clock: FakeClock, found: Any) -> list[dict[str, Any]]:
    """Sweep the outbox a (fake) two seconds at a time until the fake has what `found` wants."""
    for _ in range(60):
        await send_due(live.services, clock.advance(seconds=2))
        sent = live.tg.sent_messages()
        if found(sent):
            return sent
    raise AssertionError("the message never reached the fake Bot API")


async def _twilio(live: Live, path: str, form: dict[str, str]) -> httpx.Response:
    """A webhook as Twilio sends it: to our server, signed for the public URL."""
    headers = signed_post_headers(PUBLIC_URL + path, form, live.tw.auth_token)
    async with httpx.AsyncClient(base_url=live.url) as http:
        return await http.post(path, data=form, headers=headers)


async def _shots(tab: Any, name: str, *at: str) -> None:
    """The page as an officer sees it at each size: the top, then each of `at` in view."""
    if SHOTS:
        for width, height in ((1366, 768), (390, 844)):
            await tab.set_viewport_size({"width": width, "height": height})
            await tab.evaluate("window.scrollTo(0, 0)")
            await tab.screenshot(path=f"{SHOTS}/{name}-{width}.png")
            for n, selector in enumerate(at, 1):
                await tab.locator(selector).last.scroll_into_view_if_needed()
                await tab.screenshot(path=f"{SHOTS}/{name}-{width}-{n}.png")
        await tab.set_viewport_size({"width": 1366, "height": 768})


async def test_an_officer_calls_the_parent_and_the_call_logs_itself(
    live: Live,
    page: Any,  # noqa: F811
) -> None:
    await _officer(live)
    enquiry = await enquire(live.services, language="en")
    await sign_in(page, live.url, "olu@example.org")
    await page.goto(f"{live.url}/staff/enquiries/{enquiry.reference}")
    await page.get_by_role("button", name="📞 Call the parent").click()
    await page.get_by_text("Ringing your phone (ending 0555) now.").wait_for()

    [placed] = live.tw.calls_made()  # Twilio rings the officer, from the helpline's number
    params = placed["params"]
    assert params["To"] == OFFICER_PHONE and params["From"] == SERVICE_NUMBER
    played = await play_call(live.tw, placed["sid"], live.url)  # the fake plays it as Twilio
    assert played.statuses == [200, 200, 204]
    assert played.caller_id == SERVICE_NUMBER  # the parent sees the helpline, not the officer
    assert played.dialled == enquiry.callback_phone

    await page.reload()
    attempts = page.locator("#attempts")
    await attempts.get_by_text("Spoke to the parent").wait_for()
    assert "call through the helpline, 95 s" in await attempts.inner_text()
    assert "Response target met" in await page.locator("#sla").inner_text()


async def test_an_urdu_parent_is_texted_in_urdu_and_their_reply_flags_today(
    live: Live,
    page: Any,  # noqa: F811
    clock: FakeClock,
) -> None:
    await _officer(live)
    enquiry, chat = await _urdu(live)
    other = await enquire(live.services, language="en")  # another case, whose last text failed
    async with live.services.sessions.begin() as session:
        callback = await session.scalar(select(Callback).where(Callback.enquiry_id == other.id))
        assert callback is not None
        callback.text_unreachable_at = clock()
    await sign_in(page, live.url, "olu@example.org")
    await page.goto(f"{live.url}/staff/enquiries/{enquiry.reference}")
    panel = page.locator("#reach")
    preview = panel.locator(".preview").first
    assert "کوشش" in await preview.inner_text()  # "we tried", previewed in Urdu
    await panel.locator("input[value=tried]").check()
    await panel.get_by_role("button", name="Send message").click()
    await page.get_by_text("Message logged as an attempt. Queued to send by telegram.").wait_for()

    def arrived(sent: list[dict[str, Any]]) -> bool:
        return any(enquiry.reference in m["text"] and "کوشش" in m["text"] for m in sent)

    sent = await _sent_until(live, clock, arrived)
    urdu = next(m for m in sent if enquiry.reference in m["text"] and "کوشش" in m["text"])
    assert urdu["chat"]["id"] == chat and "we tried" not in urdu["text"]

    reply = "جی، منگل کو شام چار بجے کے بعد فون کریں"  # "yes, ring on Tuesday after 4pm"
    async with httpx.AsyncClient(base_url=live.url) as http:
        posted = await http.post(
            "/telegram/webhook",
            json=update_message(next(UPDATES), chat, reply, language_code="ur"),
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )
    assert posted.status_code == 200
    thanks = await _sent_until(live, clock, lambda s: any("شامل" in m["text"] for m in s))
    assert any(enquiry.reference in m["text"] for m in thanks if "شامل" in m["text"])

    await page.goto(f"{live.url}/staff/today")
    row = page.locator(f'tr[data-reference="{enquiry.reference}"]')
    assert "↩ Parent replied (1)" in await row.inner_text()
    other_row = page.locator(f'tr[data-reference="{other.reference}"]')
    assert "Unreachable by text" in await other_row.inner_text()
    await _shots(page, "reach-today")
    await page.goto(f"{live.url}/staff/callbacks")
    assert "↩ Parent replied (1)" in await page.locator("#queue").inner_text()
    await _shots(page, "reach-queue")
    await page.goto(f"{live.url}/staff/enquiries/{enquiry.reference}")
    await page.locator(".transcript").get_by_text(reply).wait_for()  # opened: unread reply
    assert "The parent replied 1 time" in await page.locator("#replied").inner_text()
    await _shots(page, "reach-case-replied", "#reach", ".transcript li")

    await page.get_by_role("button", name="Mark as read").click()
    await page.locator("#replied").wait_for(state="detached")
    await page.goto(f"{live.url}/staff/today")
    assert "Parent replied" not in await page.locator("main").inner_text()


async def test_a_parent_who_said_texts_are_not_safe_cannot_be_texted(
    live: Live,
    page: Any,  # noqa: F811
) -> None:
    await _officer(live)
    enquiry = await enquire(live.services, voicemail_ok=False, language="en")
    await sign_in(page, live.url, "olu@example.org")
    await page.goto(f"{live.url}/staff/enquiries/{enquiry.reference}")
    panel = page.locator("#reach")
    closed = "The parent did not say a text or voicemail is safe, so no message can be sent."
    await panel.get_by_text(closed).wait_for()
    assert await panel.get_by_role("button", name="Send message").count() == 0
    assert "No voicemail" in await page.locator("#voicemail-rule").inner_text()
    await _shots(page, "reach-case-no-texts", "#reach")

    before = await count_rows(live.services)
    token = await page.locator("meta[name=csrf-token]").get_attribute("content")
    forged = await page.request.post(  # the browser's own cookies, outside the page
        f"{live.url}/staff/enquiries/{enquiry.reference}/text",
        form={"message": "tried"},
        headers={"X-CSRFToken": token or "", "HX-Request": "true"},
    )
    assert forged.status == 422
    assert "did not say a text or voicemail is safe" in await forged.text()
    assert await count_rows(live.services) == before
    assert not any(enquiry.reference in m["text"] for m in live.tg.sent_messages())
