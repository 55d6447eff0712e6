"""The dashboard in a real headless Chromium, served by uvicorn on loopback (SQLite only)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import Settings
from bot.web.app import create_app
from bot.wiring import build_services
from storage.models import Callback, Contact, Enquiry, OutboxMessage
from tests.bot.dashboard.helpers import AUTHENTICATORS, PASSWORD, add_staff, enquire, totp_code
from tests.conftest import FakeClock
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def live(
    tmp_path: Path, sqlite_template: Path, clock: FakeClock
) -> AsyncIterator[tuple[Services, str]]:
    path = tmp_path / "helpline.db"
    shutil.copy(sqlite_template, path)
    settings = replace(Settings(), database_url=f"sqlite+aiosqlite:///{path}", languages=("en",))
    services = build_services(settings, now=clock)
    app = create_app(settings, services=services, migrate=False)
    async with LiveServer(app) as server:
        yield services, server.url


@pytest.fixture
async def page(live: tuple[Services, str]) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = await browser.new_page()
        errors: list[str] = []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        yield tab
        await browser.close()
    assert not errors, errors  # no CSP violation, no script error


async def sign_in(page: Any, url: str, email: str) -> None:
    await page.goto(url + "/staff/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    if email in AUTHENTICATORS:  # managers and admins give the code from their app
        await page.wait_for_url(url + "/staff/login/code")
        await page.get_by_label("Code from your authenticator app").fill(totp_code(email))
        await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(url + "/staff/today")


async def test_sign_in_and_the_queue_in_due_order_urgent_first(
    live: tuple[Services, str], page: Any, clock: FakeClock
) -> None:
    services, url = live
    await add_staff(services, "olu@example.org")
    first = await enquire(services)
    clock.advance(hours=1)
    second = await enquire(services)
    clock.advance(hours=1)
    urgent = await enquire(services)
    async with services.sessions.begin() as session:
        row = await session.scalar(select(Callback).where(Callback.enquiry_id == urgent.id))
        assert row is not None
        row.urgent = True
        older = await session.scalar(select(Callback).where(Callback.enquiry_id == first.id))
        assert older is not None
        older.due_at = clock() - timedelta(minutes=5)  # overdue
    await sign_in(page, url, "olu@example.org")
    await page.goto(url + "/staff/callbacks")
    references = await page.locator("#queue tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.reference)"
    )
    assert references == [urgent.reference, first.reference, second.reference]
    overdue_row = page.locator(f'tr[data-reference="{first.reference}"]')
    assert "Overdue" in await overdue_row.inner_text()
    assert "Urgent" in await page.locator(f'tr[data-reference="{urgent.reference}"]').inner_text()


async def test_log_an_attempt_then_close_the_case_and_the_survey_is_queued(
    live: tuple[Services, str], page: Any
) -> None:
    services, url = live
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    await sign_in(page, url, "olu@example.org")
    await page.goto(url + f"/staff/enquiries/{enquiry.reference}")
    await page.get_by_label("Spoke to the parent").check()
    await page.get_by_role("button", name="Log attempt").click()
    await page.locator("#sla").get_by_text("Response target met").wait_for()
    await page.get_by_label("Outcome").select_option("Advice given")
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await (dialog.accept() if len(asked) > 1 else dialog.dismiss())

    page.on("dialog", answer)
    await page.get_by_role("button", name="Close case").click()  # asked, and not confirmed
    await page.get_by_role("button", name="Close case").click()  # asked again, and confirmed
    await page.locator("#survey").wait_for()
    assert len(asked) == 2 and enquiry.reference in asked[0]
    assert await page.locator("#m-close").inner_text() == "✔ Case closed."
    assert await page.evaluate("document.activeElement.id") == "m-close"
    async with services.sessions() as session:
        survey = (
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        ).one()
        closed = await session.get(Enquiry, enquiry.id)
    assert survey.channel == "telegram" and "from 1 (very poor) to 5" in survey.payload["text"]
    assert closed is not None and closed.status == "closed" and closed.survey_sent_at


async def test_an_urdu_enquiry_reads_right_to_left(
    live: tuple[Services, str], page: Any, clock: FakeClock
) -> None:
    services, url = live
    await add_staff(services, "olu@example.org")
    enquiry = await enquire(services)
    words = "اسکول کہتا ہے کہ وہ میرے بیٹے کی ضروریات پوری نہیں کر سکتا۔"
    async with services.sessions.begin() as session:
        row = await session.get(Enquiry, enquiry.id)
        assert row is not None
        row.language, row.description = "ur", words
        row.answers = {**row.answers, "description": words}
        contact = await session.get(Contact, row.contact_id)
        assert contact is not None
    await sign_in(page, url, "olu@example.org")
    await page.goto(url + f"/staff/enquiries/{enquiry.reference}")
    own_words = page.locator(".own-words", has_text="اسکول")
    assert await own_words.get_attribute("dir") == "auto"
    direction = await own_words.evaluate("el => getComputedStyle(el).direction")
    assert direction == "rtl"
    assert "Urdu" in await page.content()


STAFF_PAGES = (
    "/staff/queue",
    "/staff/callbacks",
    "/staff/search",
    "/staff/rota",
    "/staff/admin/staff",
    "/staff/audit",
    "/staff/safeguarding",
    "/staff/reports",
)


async def test_sign_out_then_every_staff_page_goes_to_the_login(
    live: tuple[Services, str], page: Any
) -> None:
    services, url = live
    await add_staff(services, "ada@example.org", role="admin")
    await sign_in(page, url, "ada@example.org")
    await page.goto(url + "/staff/callbacks")
    assert page.url == url + "/staff/callbacks"
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url(url + "/staff/login")
    for path in STAFF_PAGES:
        await page.goto(url + path)
        assert page.url == url + "/staff/login", path
    cookies = {cookie["name"] for cookie in await page.context.cookies()}
    assert "helpline_staff" not in cookies
