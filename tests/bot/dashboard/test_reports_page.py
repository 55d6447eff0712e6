"""The manager's reports page inside the dashboard: figures, charts, CSV, and who may see it."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from bot.core.services import Services
from bot.domain import audit
from storage.models import AuditEntry
from tests.bot.dashboard.helpers import add_staff, enquire, sign_in


async def test_a_manager_sees_the_period_report_with_charts_and_csv(
    services: Services, client: httpx.AsyncClient
) -> None:
    await enquire(services)
    await enquire(services, channel="sms")
    await add_staff(services, "mo@example.org", "manager")
    await sign_in(client, "mo@example.org")
    page = await client.get("/staff/reports", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "Cases breakdown by issue" in page.text
    assert 'href="/staff/reports"' in page.text
    csv = await client.get("/staff/reports.csv", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    lines = csv.text.splitlines()
    assert "2026-11,2,0 of 0,–,0 of 0,–" in lines  # the two contacts of November
    assert "SEN,2,0" in lines
    backwards = await client.get(
        "/staff/reports", params={"from": "2026-12-01", "to": "2026-11-01"}
    )
    assert backwards.status_code == 400
    for params in ({"from": "2026-13-01"}, {"to": "yesterday"}):
        for path in ("/staff/reports", "/staff/reports.csv"):
            malformed = await client.get(path, params=params)
            assert malformed.status_code == 400
            assert "is not a date such as" in malformed.text
    async with services.sessions() as session:
        actions = set(await session.scalars(select(AuditEntry.action)))
    assert {audit.VIEW_REPORT, audit.EXPORT_REPORT} <= actions


async def test_an_officer_may_not_see_reports(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "olu@example.org", "officer")
    await sign_in(client, "olu@example.org")
    assert (await client.get("/staff/reports")).status_code == 403
    assert (await client.get("/staff/reports.csv")).status_code == 403


async def test_the_reports_page_opens_on_the_academic_year(
    services: Services, client: httpx.AsyncClient
) -> None:
    await add_staff(services, "mo@example.org", "manager")
    await sign_in(client, "mo@example.org")
    page = await client.get("/staff/reports")  # the test clock says Monday 23 November 2026
    assert page.status_code == 200
    assert 'name="from" value="2026-09-01"' in page.text
    assert 'name="to" value="2027-07-31"' in page.text
    assert "01 Sep 2026 – 31 Jul 2027" in page.text
