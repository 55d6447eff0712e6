"""Journey: a new admin signs in, sets the rota, takes the unassigned callback from Today, logs an
attempt, adds a note and closes the case, at laptop and at phone size, on SQLite and PostgreSQL.

Every page reached is audited with axe-core; every message appears beside its form with the focus.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from bot.core.settings import Settings
from storage.models import CallAttempt, CaseNote, Enquiry, RotaDay
from tests.browser.journeys import (
    LAPTOP,
    PHONE,
    accept_dialogs,
    add_staff,
    assert_accessible,
    audit,
    new_page,
    no_sideways_scroll,
    served,
    service_settings,
    sign_in,
)
from tests.browser.test_journey_parent import answer
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str) -> Settings:
    return service_settings(db_url)


async def parent_asks(page: Page, url: str) -> str:
    """A parent's whole intake in the web chat (English only here); returns the reference."""
    await page.goto(f"{url}/chat")
    steps: list[int | str] = [
        1,
        1,
        2,
        2,
        "Year 4",
        2,
        "The school will not assess him.",
        "07700 900123",
    ]
    steps += [1, 1, 2, 1, 5, 1]
    await page.locator("#choices button").first.wait_for()
    for step in steps:
        await answer(page, "button" if isinstance(step, int) else "text", step)
    text = await page.locator("#messages li.out", has_text="PP-").inner_text()
    return "PP-" + text.split("PP-")[1][:6]


async def focused(page: Page) -> str:
    return str(await page.evaluate("document.activeElement.id"))


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["laptop", "phone"])
async def test_a_new_admin_works_a_callback_from_today_to_closed(
    browser: Browser, settings: Settings, clock: FakeClock, viewport: dict[str, int]
) -> None:
    audited: dict[str, list[str]] = {}
    async with served(settings, clock) as helpline:
        url = helpline.url
        chat, _ = await new_page(browser, PHONE)
        reference = await parent_asks(chat, url)
        await chat.context.close()
        add_staff(settings, "ada@example.org", "Ada Lovelace", "admin")

        page, errors = await new_page(browser, viewport)
        await sign_in(page, url, "ada@example.org", clock)
        await audit(page, audited)
        notice = page.locator("#no-rota")
        assert "No duty rota is set" in await notice.inner_text()
        assert reference in await page.locator("#unassigned").inner_text()
        await notice.get_by_role("link", name="Set the duty rota").click()

        await page.wait_for_url(url + "/staff/rota")
        await audit(page, audited)
        for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
            await page.get_by_label(day, exact=True).select_option(label="Ada Lovelace")
        await page.get_by_role("button", name="Save pattern").click()
        await page.locator("#m-pattern", has_text="Weekly pattern saved").wait_for()
        assert await focused(page) == "m-pattern"

        await page.get_by_role("link", name="All callbacks", exact=True).first.click()
        await page.wait_for_url(url + "/staff/callbacks")
        await no_sideways_scroll(page)  # the table stacks into cards on a phone
        await audit(page, audited)
        await page.get_by_role("link", name="Today", exact=True).click()
        await page.wait_for_url(url + "/staff/today")
        assert await page.locator("#no-rota").count() == 0
        row = page.locator(f'#unassigned tr[data-reference="{reference}"]')
        await no_sideways_scroll(page)
        await row.get_by_role("button", name="Take it").click()

        await page.wait_for_url(f"{url}/staff/enquiries/{reference}?done=take")
        assert await focused(page) == "m-reassign"
        assert "taken this callback" in await page.locator("#m-reassign").inner_text()
        await audit(page, audited)
        await no_sideways_scroll(page)
        if viewport == LAPTOP:  # the actions sit beside the case, above the fold
            box = await page.get_by_role("button", name="Close case").bounding_box()
            assert box is not None and box["y"] + box["height"] <= viewport["height"]

        await page.get_by_role("button", name="Log attempt").click()  # nothing chosen
        valid = await page.evaluate("document.querySelector('#attempt-form').checkValidity()")
        assert valid is False  # the browser asks for an outcome; nothing is sent
        await page.get_by_label("No answer").check()
        await page.get_by_role("button", name="Log attempt").click()
        await page.wait_for_url(f"{url}/staff/enquiries/{reference}?done=attempt")
        assert await focused(page) == "m-attempt"
        sla = await page.locator("#sla").inner_text()
        assert "No contact attempt yet" not in sla and "Not reached yet: 1 attempt" in sla

        await page.get_by_label("Add a note").fill("Rang at 10:00, no answer; try after lunch.")
        await page.get_by_role("button", name="Add note").click()
        await page.wait_for_url(f"{url}/staff/enquiries/{reference}?done=note")
        assert await focused(page) == "m-note"
        assert "try after lunch" in await page.locator("#notes").inner_text()

        asked = accept_dialogs(page)
        await page.get_by_label("Outcome").select_option("Advice given")
        await page.get_by_role("button", name="Close case").click()
        await page.wait_for_url(f"{url}/staff/enquiries/{reference}?done=close")
        assert asked and reference in asked[0]
        assert await focused(page) == "m-close"
        await audit(page, audited)
        await page.context.close()

        async with helpline.store() as session:
            enquiry = (await session.scalars(select(Enquiry))).one()
            attempts = (await session.scalars(select(CallAttempt.outcome))).all()
            notes = (await session.scalars(select(CaseNote.text))).all()
            rota = (await session.scalars(select(RotaDay.staff_id))).all()
    assert enquiry.reference == reference and enquiry.status == "closed"
    assert enquiry.outcome == "Advice given"
    assert attempts == ["no_answer"] and len(notes) == 1 and len(set(rota)) == 1
    assert not errors, errors
    assert_accessible(audited)
