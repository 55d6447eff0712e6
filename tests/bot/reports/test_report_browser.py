"""The Reports page in Chromium on a phone: it opens again and again, and never scrolls sideways."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.services import Services
from tests.bot.dashboard.helpers import add_staff, enquire
from tests.bot.dashboard.test_browser import live, page, sign_in  # noqa: F401 (fixtures)
from tests.bot.reports.test_pages import _attempt
from tests.conftest import FakeClock

pytestmark = pytest.mark.browser


async def test_reports_on_a_phone_after_attempts(
    live: tuple[Services, str],  # noqa: F811
    page: Any,  # noqa: F811
    clock: FakeClock,
) -> None:
    services, url = live
    manager = await add_staff(services, "mo@example.org", "manager")
    enquiry = await enquire(services)
    clock.advance(hours=2)
    await _attempt(services, enquiry.id, manager, "spoke")
    await page.set_viewport_size({"width": 390, "height": 844})
    await sign_in(page, url, "mo@example.org")
    for _ in range(3):
        response = await page.goto(url + "/staff/reports")
        assert response is not None and response.status == 200
    assert await page.locator("input[name=from]").input_value() == "2026-09-01"
    assert "2 h 00 min" in await page.locator("#table-kpis").inner_text()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width} px wide"
