"""/staff/reports: the KPIs and the annual report's tables for any period, for managers."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import audit
from bot.reports import Period, build_report, report_page
from bot.reports.periods import current_academic_year, parse_day
from bot.reports.render import csv_text
from bot.web.dashboard.base import Dashboard
from storage.models import Staff


def _period(request: Request, today: date) -> tuple[date, date] | str:
    """The asked-for dates (the academic year under way when none are given), or a reason."""
    raw_start, raw_end = request.query_params.get("from"), request.query_params.get("to")
    year_start, year_end = current_academic_year(today)
    try:
        start = parse_day(raw_start, "The start date") if raw_start else year_start
        end = parse_day(raw_end, "The end date") if raw_end else year_end
    except ValueError as exc:
        return f"{exc}."
    if start > end:
        return "The start date must not be after the end date."
    if (end - start).days > 5 * 366:
        return "Please choose a period of at most five years."
    return start, end


def routes(board: Dashboard) -> list[Route]:
    def asked_period(request: Request) -> tuple[date, date] | Response:
        today = board.services.clock.local_date(board.now())
        period = _period(request, today)
        return board.message(request, period, 400) if isinstance(period, str) else period

    @board.guarded("manager")
    async def reports(request: Request, staff: Staff, session: AsyncSession) -> Response:
        period = asked_period(request)
        if isinstance(period, Response):
            return period
        start, end = period
        body = await report_page(board.services, start, end)
        audit.record(session, staff, audit.VIEW_REPORT, board.now(), detail=f"{start}..{end}")
        # The report section is rendered by its own autoescaping Jinja environment.
        report = Markup(body)  # nosec B704
        context = {"title": "Reports", "start": start, "end": end, "report": report}
        return board.render(request, "reports.html", context, staff)

    @board.guarded("manager")
    async def reports_csv(request: Request, staff: Staff, session: AsyncSession) -> Response:
        period = asked_period(request)
        if isinstance(period, Response):
            return period
        start, end = period
        report = await build_report(board.services, Period(start, end, board.settings.timezone))
        audit.record(session, staff, audit.EXPORT_REPORT, board.now(), detail=f"{start}..{end}")
        name = f"helpline-report-{start}-{end}.csv"
        return Response(
            csv_text(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return [
        Route("/staff/reports", reports, methods=["GET"]),
        Route("/staff/reports.csv", reports_csv, methods=["GET"]),
    ]
