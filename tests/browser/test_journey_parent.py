"""Journey: a parent completes an intake in the web chat on a phone, in English, Urdu and Polish.

At every step the answer buttons and the text box are on the screen, the next input has the
focus, nothing scrolls sideways; the page's title and words follow the chosen language, and the
promise names the afternoon the parent chose. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select

from bot.core.i18n import due_parts
from bot.core.settings import Settings
from bot.domain.enquiries import CONFIRMATION_IN_WINDOW
from storage.models import Callback, Enquiry
from tests.browser.journeys import (
    PHONE,
    assert_accessible,
    audit,
    new_page,
    no_sideways_scroll,
    served,
    service_settings,
)
from tests.conftest import FakeClock, london

pytestmark = pytest.mark.browser
LANGUAGES = ("en", "ur", "pl")
# (how the step is answered, the answer): a number is a button, words are typed.
STEPS: list[tuple[str, int | str]] = [
    ("button", 1),  # consent: yes
    ("button", 1),  # parent or carer
    ("button", 2),  # EHC needs assessment or plan
    ("button", 2),  # asked for an assessment
    ("text", "Year 4"),
    ("button", 2),  # primary school
    ("text", "The school says they cannot meet his needs."),
    ("text", "07700 900123"),
    ("button", 2),  # afternoon
    ("button", 1),  # voicemail: yes
    ("button", 2),  # interpreter: no
    ("button", 1),  # share: yes
    ("button", 5),  # heard from the website
    ("button", 1),  # send my enquiry
]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return service_settings(db_url, languages=LANGUAGES)


async def answer(page: Page, how: str, value: int | str) -> None:
    """One answer; waits by locator (the page's CSP forbids the eval wait_for_function needs)."""
    before = await page.locator("#messages li.out").count()
    if how == "button":
        await page.locator(f"#choices button:nth-child({value})").click()
    else:
        await page.locator("#text").fill(str(value))
        await page.locator("#send").click()
    await page.locator("#messages li.out").nth(before).wait_for()


async def controls_in_view(page: Page) -> None:
    """The first answer button (or the text box) and Send are inside the phone's screen."""
    view = await page.evaluate(
        """() => {
        const box = e => e ? e.getBoundingClientRect() : null;
        const first = document.querySelector('#choices button');
        return {first: box(first), send: box(document.getElementById('send')),
                text: box(document.getElementById('text')), height: window.innerHeight,
                focused: document.activeElement === (first || document.getElementById('text'))};
        }"""
    )
    for name in ("first", "text", "send"):
        rect = view[name]
        if rect is not None:
            assert rect["top"] >= 0 and rect["bottom"] <= view["height"] + 1, (name, view)
    assert view["focused"], view


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_parent_completes_an_intake_on_a_phone(
    browser: Browser, settings: Settings, clock: FakeClock, language: str
) -> None:
    clock.set(london(2026, 11, 26, 11, 9))  # Thursday: one working day is Friday 11:09
    audited: dict[str, list[str]] = {}
    async with served(settings, clock) as helpline:
        page, errors = await new_page(browser, PHONE)
        await page.goto(f"{helpline.url}/chat")
        await page.locator("#choices button").first.wait_for()
        assert "999" in await page.locator("#danger").inner_text()
        await audit(page, audited)
        await answer(page, "button", LANGUAGES.index(language) + 1)  # the language menu
        translate = helpline.services.catalogs.gettext(language)
        service = settings.service_name
        assert await page.title() == translate("Chat with {service}").format(service=service)
        assert await page.evaluate("document.documentElement.lang") == language
        direction = "rtl" if language == "ur" else "ltr"
        assert await page.evaluate("document.documentElement.dir") == direction
        for how, value in STEPS:
            await controls_in_view(page)
            await no_sideways_scroll(page)
            await answer(page, how, value)
        confirmation = await page.locator("#messages li.out").last.inner_text()
        await audit(page, audited)
        await page.reload()  # the title is in the parent's language from the server too
        await page.locator("#messages li.out").last.wait_for()
        assert await page.title() == translate("Chat with {service}").format(service=service)
        await page.context.close()
        async with helpline.store() as session:
            enquiry = (await session.scalars(select(Enquiry))).one()
            callback = (await session.scalars(select(Callback))).one()
    assert enquiry.language == language and enquiry.channel == "webchat"
    assert callback.due_at == london(2026, 11, 27, 17, 0) and callback.preferred_time == "afternoon"
    parts = due_parts(callback.due_at, language, settings.timezone)
    promise = translate(CONFIRMATION_IN_WINDOW["afternoon"])
    assert confirmation == promise.format(reference=enquiry.reference, **parts)
    assert "17:00" in confirmation and "11:09" not in confirmation
    assert not errors, errors
    assert_accessible(audited)


async def test_without_javascript_the_page_gives_the_phone_number(
    browser: Browser, settings: Settings, clock: FakeClock
) -> None:
    async with served(settings, clock) as helpline:
        context = await browser.new_context(viewport=PHONE, java_script_enabled=False)  # type: ignore[arg-type]
        page = await context.new_page()
        await page.goto(f"{helpline.url}/chat")
        text = await page.locator("noscript").inner_text()
        await context.close()
    assert settings.service_phone in text and "JavaScript" in text
