"""A parent finishes an enquiry in the web chat, in a real browser, and reloads midway."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from playwright.async_api import Browser, Page

from bot.core.settings import Settings


# Waiting by locator, not wait_for_function: the page's CSP forbids the eval that needs.
async def click_choice(page: Page, label: str) -> None:
    before = await page.locator("#messages li.out").count()
    await page.get_by_role("button", name=label).click()
    await page.locator("#messages li.out").nth(before).wait_for()


async def type_answer(page: Page, text: str) -> None:
    before = await page.locator("#messages li.out").count()
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send").click()
    await page.locator("#messages li.out").nth(before).wait_for()


async def choose(page: Page, label: str) -> None:
    await click_choice(page, label)


async def test_a_parent_completes_the_intake_in_the_browser(
    browser: Browser, live_url: str, live_settings: Settings
) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_url}/chat")
    await page.get_by_role("button", name="1. Yes").wait_for()
    await choose(page, "1. Yes")
    await choose(page, "1. Parent or carer")
    await page.reload()  # the conversation survives a reload
    await page.get_by_role("button", name="2. EHC needs assessment or plan").wait_for()
    assert "Who is asking?" in await page.locator("#messages").inner_text()
    await choose(page, "2. EHC needs assessment or plan")
    await choose(page, "2. Asked for an EHC needs assessment")
    await type_answer(page, "Year 4")
    await choose(page, "2. Primary school")
    await type_answer(page, "The school says they cannot meet his needs.")
    await type_answer(page, "07700 900123")
    await choose(page, "1. Morning (9am to 12 noon)")
    await choose(page, "1. Yes")
    await choose(page, "2. No")
    await choose(page, "1. Yes")
    await choose(page, "5. Website or internet search")
    summary = await page.locator("#messages li.out").last.inner_text()
    assert "07700 900123" in summary and "Year 4" in summary
    await choose(page, "1. Send my enquiry")
    confirmation = await page.locator("#messages li.out").last.inner_text()
    assert "Your reference is PP-" in confirmation
    assert (
        "An officer will call you on Tuesday 24 November in the morning, by 10:00." in confirmation
    )
    await page.close()
    # ... and it is in the operator's queue, from the CLI, with a due time from the clock.
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "queue", "--json"],
        env={"HELPLINE_DATABASE_URL": live_settings.database_url, "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 1 and rows[0]["channel"] == "webchat"
    assert rows[0]["reference"] in confirmation


async def test_worrying_words_get_tappable_safety_numbers_and_a_number_request(
    browser: Browser, live_url: str
) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(f"{live_url}/chat")
    await page.get_by_role("button", name="1. Yes").wait_for()
    await type_answer(page, "my son said he wants to kill himself")
    messages = page.locator("#messages li.out")
    safety, ask = messages.nth(-2), messages.last
    links = await safety.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert links[0] == "tel:999" and "tel:08088005000" in links and "tel:08001111" in links
    assert await ask.inner_text() == "Can we call you? Type your number, or 'no'."
    await page.screenshot(path="/tmp/risk-chat-390.png", full_page=True)
    await type_answer(page, "07700 900456")
    thanks = await messages.nth(-2).inner_text()
    assert thanks == "Thank you. An officer will call you on 07700 900456."
    # The parent's own words are never turned into links.
    assert await page.locator("#messages li.in a").count() == 0
    await page.close()
