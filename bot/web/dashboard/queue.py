"""My queue and All callbacks: due order, urgent first, filtered, paged by keyset.

The page cursor is the last row's (urgent, due_at, id), the same order as the queue index, so
a page costs the same on the first morning and after a year of callbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.domain import concerns
from bot.domain.callbacks import OPEN_STATUSES
from bot.web.dashboard.base import Dashboard
from flows.intake import TOPICS
from storage.models import Callback, Enquiry, Staff

PAGE = 25
DUE_SOON = timedelta(hours=2)
STATUSES = ("open", "queued", "assigned", "attempted", "closed", "all")
CHANNELS = ("telegram", "sms", "whatsapp", "voice", "webchat", "console")
TOPIC_LABELS = {choice.value: choice.label for choice in TOPICS}


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    officer: str = ""
    topic: str = ""
    language: str = ""
    channel: str = ""
    overdue: bool = False

    @classmethod
    def read(cls, params: Any) -> Filters:
        status = params.get("status", "open")
        topic = params.get("topic", "")
        channel = params.get("channel", "")
        officer = params.get("officer", "")
        return cls(
            status=status if status in STATUSES else "open",
            officer=officer if officer == "none" or officer.isdigit() else "",
            topic=topic if topic in TOPIC_LABELS else "",
            language=params.get("language", "")[:16],
            channel=channel if channel in CHANNELS else "",
            overdue=params.get("overdue") == "1",
        )

    def query(self) -> dict[str, str]:
        values = {
            "status": self.status,
            "officer": self.officer,
            "topic": self.topic,
            "language": self.language,
            "channel": self.channel,
            "overdue": "1" if self.overdue else "",
        }
        return {k: v for k, v in values.items() if v}


def cursor_of(callback: Callback) -> str:
    return f"{int(callback.urgent)}_{callback.due_at.astimezone(UTC).isoformat()}_{callback.id}"


def _after(cursor: str) -> Any:
    """Rows after the cursor in (urgent DESC, due_at, id) order; a bad cursor starts again."""
    try:
        urgent_text, due_text, id_text = cursor.split("_")
        urgent, last_id = urgent_text == "1", int(id_text)
        due = datetime.fromisoformat(due_text)
        if due.tzinfo is None:
            return None
    except ValueError:
        return None
    later = or_(Callback.due_at > due, and_(Callback.due_at == due, Callback.id > last_id))
    if urgent:
        return or_(Callback.urgent.is_(False), and_(Callback.urgent.is_(True), later))
    return and_(Callback.urgent.is_(False), later)


def statement(
    filters: Filters, now: datetime, mine: int | None, cursor: str
) -> Select[Callback, Enquiry, Staff]:
    query: Select[Callback, Enquiry, Staff] = (
        select(Callback, Enquiry, Staff)
        .join(Enquiry, Callback.enquiry_id == Enquiry.id)
        .outerjoin(Staff, Callback.assigned_to == Staff.id)
        .order_by(Callback.urgent.desc(), Callback.due_at, Callback.id)
        .limit(PAGE + 1)
    )
    if filters.status == "open":
        query = query.where(Callback.status.in_(OPEN_STATUSES))
    elif filters.status != "all":
        query = query.where(Callback.status == filters.status)
    if mine is not None:
        query = query.where(Callback.assigned_to == mine)
    elif filters.officer == "none":
        query = query.where(Callback.assigned_to.is_(None))
    elif filters.officer:
        query = query.where(Callback.assigned_to == int(filters.officer))
    if filters.topic:
        query = query.where(Enquiry.topic == filters.topic)
    if filters.language:
        query = query.where(Enquiry.language == filters.language)
    if filters.channel:
        query = query.where(Enquiry.channel == filters.channel)
    if filters.overdue:
        query = query.where(Callback.due_at < now, Callback.status.in_(OPEN_STATUSES))
    after = _after(cursor) if cursor else None
    if after is not None:
        query = query.where(after)
    return query


def mark(callback: Callback, now: datetime) -> str:
    """overdue / soon / "" — shown as words and an icon, never by colour alone."""
    if callback.status not in OPEN_STATUSES:
        return ""
    if callback.due_at < now:
        return "overdue"
    return "soon" if callback.due_at - now <= DUE_SOON else ""


def routes(board: Dashboard) -> list[Route]:
    async def listing(
        request: Request, staff: Staff, session: AsyncSession, mine: bool
    ) -> Response:
        now = board.now()
        filters = Filters.read(request.query_params)
        cursor = request.query_params.get("after", "")[:64]
        rows = (
            await session.execute(statement(filters, now, staff.id if mine else None, cursor))
        ).all()
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        officers = (await session.scalars(select(Staff).order_by(Staff.name))).all()
        languages = sorted(set(board.settings.languages))
        return board.render(
            request,
            "queue.html",
            {
                "title": "My queue" if mine else "All callbacks",
                "path": request.url.path,
                "rows": [(c, e, s, mark(c, now)) for c, e, s in rows],
                "next_cursor": cursor_of(rows[-1][0]) if more and rows else None,
                "filters": filters,
                "query": filters.query(),
                "statuses": STATUSES,
                "officers": officers,
                "topics": TOPIC_LABELS,
                "languages": languages,
                "channels": CHANNELS,
                "mine": mine,
                "urgent_open": await concerns.count_open(session),
            },
            staff,
        )

    @board.guarded()
    async def my_queue(request: Request, staff: Staff, session: AsyncSession) -> Response:
        return await listing(request, staff, session, mine=True)

    @board.guarded()
    async def all_callbacks(request: Request, staff: Staff, session: AsyncSession) -> Response:
        return await listing(request, staff, session, mine=False)

    return [
        Route("/staff/queue", my_queue),
        Route("/staff/callbacks", all_callbacks),
    ]
