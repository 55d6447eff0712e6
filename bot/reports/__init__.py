"""Reports: the KPIs and the annual report's tables and charts, computed from the records.

`report_page` is what the dashboard mounts at /staff/reports (behind manager login).
"""

from __future__ import annotations

from datetime import date

from bot.core.services import Services
from bot.reports.periods import Period
from bot.reports.render import html
from bot.reports.report import Report, build_report

__all__ = ["Period", "Report", "build_report", "report_page"]


async def report_page(services: Services, start: date, end: date) -> str:
    """The report for local dates `start`..`end` as a <section> fragment for the dashboard's
    layout (the CLI renders whole documents). Raises ValueError if start > end."""
    period = Period(start, end, services.settings.timezone)
    return html(await build_report(services, period), services.settings.service_name, page=False)
