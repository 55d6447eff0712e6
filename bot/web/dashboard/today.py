"""Today: where a signed-in officer lands, so that no overdue or unassigned callback hides.

Officers see their own callbacks and the unassigned ones; managers and admins see everyone's.
With no duty rota nothing is ever assigned, so the page says so and links to the rota.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import concerns
from bot.domain.callbacks import OPEN_STATUSES
from bot.web.dashboard.auth import has_role
from bot.web.dashboard.base import Dashboard
from bot.web.dashboard.queue import TOPIC_LABELS, mark
from storage.models import Callback, Enquiry, RotaDay, RotaOverride, Staff

LIMIT = 250  # open callbacks in due order, urgent first; the rest are in All callbacks
Row = tuple[Callback, Enquiry, Staff | None, str]


@dataclass
class Sections:
    """The day's work, each callback once, in the first section that fits it."""

    urgent: list[Row] = field(default_factory=list)
    overdue: list[Row] = field(default_factory=list)
    due_today: list[Row] = field(default_factory=list)
    unassigned: list[Row] = field(default_factory=list)
    mine: list[Row] = field(default_factory=list)

    def place(self, row: Row, now: datetime, end_of_today: datetime, me: int) -> None:
        callback = row[0]
        if callback.urgent:
            self.urgent.append(row)
        elif callback.due_at < now:
            self.overdue.append(row)
        elif callback.due_at < end_of_today:
            self.due_today.append(row)
        elif callback.assigned_to is None:
            self.unassigned.append(row)
        elif callback.assigned_to == me:
            self.mine.append(row)


def open_callbacks(staff: Staff, everyone: bool) -> Select[Callback, Enquiry, Staff]:
    query: Select[Callback, Enquiry, Staff] = (
        select(Callback, Enquiry, Staff)
        .join(Enquiry, Callback.enquiry_id == Enquiry.id)
        .outerjoin(Staff, Callback.assigned_to == Staff.id)
        .where(Callback.status.in_(OPEN_STATUSES))
        .order_by(Callback.urgent.desc(), Callback.due_at, Callback.id)
        .limit(LIMIT)
    )
    if not everyone:
        query = query.where(or_(Callback.assigned_to == staff.id, Callback.assigned_to.is_(None)))
    return query


async def rota_is_set(session: AsyncSession, today: date) -> bool:
    """Anyone on the weekly pattern, or on a dated change from today on."""
    pattern = await session.scalar(select(RotaDay.weekday).where(RotaDay.staff_id.is_not(None)))
    if pattern is not None:
        return True
    cover = await session.scalar(
        select(RotaOverride.day).where(
            RotaOverride.day >= today, RotaOverride.staff_id.is_not(None)
        )
    )
    return cover is not None


def routes(board: Dashboard) -> list[Route]:
    @board.guarded()
    async def today(request: Request, staff: Staff, session: AsyncSession) -> Response:
        now, clock = board.now(), board.services.clock
        day = clock.local_date(now)
        end_of_today = datetime.combine(day + timedelta(days=1), time(0), clock.zone)
        everyone = has_role(staff, "manager")
        sections = Sections()
        for callback, enquiry, officer in (
            await session.execute(open_callbacks(staff, everyone))
        ).all():
            sections.place(
                (callback, enquiry, officer, mark(callback, now)), now, end_of_today, staff.id
            )
        people = (
            (await session.scalars(select(Staff).where(Staff.active).order_by(Staff.name))).all()
            if everyone
            else []
        )
        context = {
            "title": "Today",
            "sections": sections,
            "everyone": everyone,
            "people": people,
            "topics": TOPIC_LABELS,
            "no_rota": not await rota_is_set(session, day),
            "day": day,
            "urgent_open": await concerns.count_open(session),
        }
        return board.render(request, "today.html", context, staff)

    return [Route("/staff/today", today)]
