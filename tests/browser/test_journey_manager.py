"""Journey: a manager opens Reports twice after call attempts exist, downloads the CSV, imports
last year's cases and sees them in the year-on-year tables; on SQLite and on PostgreSQL.

The second opening is the one that broke (issue 17 item 1: a temporary table left on the pooled
SQLite connection turned every later report into a 503).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from bot.core.settings import Settings
from tests.browser.journeys import (
    LAPTOP,
    PHONE,
    add_staff,
    assert_accessible,
    audit,
    helpline,
    new_page,
    served,
    service_settings,
    sign_in,
)
from tests.browser.test_journey_officer import parent_asks
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser
PERIOD = "from=2026-09-01&to=2026-11-23"
HISTORY = (
    "date,category,actions,action_category,how_heard\n"
    "2025-10-01,Bullying,1,Bullying,School\n"
    "2025-10-02,Bullying,0,,\n"
    "2025-10-03,Bullying,0,,Website\n"
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return service_settings(db_url)


async def row_of(page: Page, table: str, name: str) -> list[str]:
    row = page.locator(f"#table-{table} tbody tr", has=page.locator("th", has_text=name))
    return [text.strip() for text in await row.first.locator("th, td").all_inner_texts()]


async def open_reports(page: Page, url: str, audited: dict[str, list[str]]) -> None:
    response = await page.goto(f"{url}/staff/reports?{PERIOD}")
    assert response is not None and response.status == 200, await page.content()
    await page.locator("#table-cases").wait_for()
    await audit(page, audited)


async def test_a_manager_reads_reports_after_attempts_and_history(
    browser: Browser,
    settings: Settings,
    clock: FakeClock,
    tmp_path: Path,
) -> None:
    audited: dict[str, list[str]] = {}
    async with served(settings, clock) as served_helpline:
        url = served_helpline.url
        chat, _ = await new_page(browser, PHONE)
        first = await parent_asks(chat, url)
        await chat.context.close()
        add_staff(settings, "max@example.org", "Max Manager", "manager")
        page, errors = await new_page(browser, LAPTOP)
        await sign_in(page, url, "max@example.org", clock)
        await (
            page.locator(f'tr[data-reference="{first}"]')
            .get_by_role("button", name="Take it")
            .click()
        )
        await page.wait_for_url(f"{url}/staff/enquiries/{first}?done=take")
        await page.get_by_label("Spoke to the parent").check()
        await page.get_by_role("button", name="Log attempt").click()
        await page.wait_for_url(f"{url}/staff/enquiries/{first}?done=attempt")

        await open_reports(page, url, audited)
        await open_reports(page, url, audited)  # again: the second time used to be a 503
        fetched = await page.request.get(f"{url}/staff/reports.csv?{PERIOD}")
        assert fetched.status == 200, await fetched.text()
        async with page.expect_download() as downloading:
            await page.get_by_role("link", name="Download CSV").click()
        download = await downloading.value
        csv_text = Path(await download.path()).read_text(encoding="utf-8")
        assert "Cases breakdown by issue" in csv_text or "Bullying" in csv_text

        history = tmp_path / "history.csv"
        history.write_text(HISTORY, encoding="utf-8")
        out = helpline(settings, "import", str(history))
        assert "imported 3" in out, out
        await open_reports(page, url, audited)
        bullying = await row_of(page, "cases", "Bullying")
        assert bullying[0] == "Bullying" and bullying[-1] == "3", bullying
        await page.context.close()
    assert not errors, errors
    assert_accessible(audited)
