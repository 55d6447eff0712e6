"""The manager's 08:30 digest and each officer's 09:00 queue, on working days only.

The digest answers the first KPI every morning: "95% of calls receive a response within one
working day". A callback counts as answered within target when its first attempt came by due_at.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.services import Services
from bot.core.settings import Settings
from bot.domain.alerts import Message, case_link, managers, to_staff, when
from bot.domain.callbacks import OPEN_STATUSES
from storage.models import Callback, Conversation, Enquiry, OutboxMessage, Staff

ROLLING_DAYS = 20
TARGET = 0.95


@dataclass(frozen=True)
class Item:
    reference: str
    due_at: datetime
    urgent: bool
    officer: str | None


@dataclass(frozen=True)
class Share:
    met: int
    total: int

    def text(self) -> str:
        if not self.total:
            return "no callbacks fell due"
        return f"{self.met}/{self.total} ({100 * self.met / self.total:.0f}%)"


@dataclass
class Digest:
    day: date
    overdue: list[Item] = field(default_factory=list)
    due_today: list[Item] = field(default_factory=list)
    urgent: list[Item] = field(default_factory=list)
    unassigned: list[Item] = field(default_factory=list)
    # Urgent conversations with no enquiry (flagged before concerns became enquiries at once).
    urgent_without_enquiry: int = 0
    yesterday: Share = Share(0, 0)
    yesterday_day: date | None = None
    rolling: Share = Share(0, 0)


def _local_bounds(settings: Settings, first: date, last: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(settings.timezone)
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(last + timedelta(days=1), time(0), zone)
    return start, end


async def _share(session: AsyncSession, settings: Settings, days: list[date]) -> Share:
    """Callbacks that fell due on `days`, and how many had a first attempt by their due_at."""
    if not days:
        return Share(0, 0)
    start, end = _local_bounds(settings, days[0], days[-1])
    zone, wanted = ZoneInfo(settings.timezone), set(days)
    # Three columns, not whole callbacks: a month of history stays a few MB (bench/RESULTS.md).
    rows = await session.execute(
        select(Callback.due_at, Callback.met_target, Callback.first_attempt_at).where(
            Callback.due_at >= start, Callback.due_at < end
        )
    )
    met = total = 0
    for due_at, met_target, first_attempt_at in rows:
        if due_at.astimezone(zone).date() not in wanted:
            continue
        total += 1
        if met_target is not None:
            met += met_target
        elif first_attempt_at is not None:
            met += first_attempt_at <= due_at
    return Share(met, total)


async def build_digest(services: Services, now: datetime) -> Digest:
    settings, clock = services.settings, services.clock
    today = clock.local_date(now)
    digest = Digest(today)
    async with services.sessions() as session:
        # Only the columns the digest shows: whole Callback and Enquiry objects (decrypted
        # answers and all) for 100,000 open callbacks took over 200 MB (bench/RESULTS.md).
        rows = await session.execute(
            select(
                Enquiry.reference,
                Callback.due_at,
                Callback.urgent,
                Staff.name,
                Callback.first_attempt_at,
                Callback.assigned_to,
            )
            .join(Enquiry, Callback.enquiry_id == Enquiry.id)
            .outerjoin(Staff, Callback.assigned_to == Staff.id)
            .where(Callback.status.in_(OPEN_STATUSES))
            .order_by(Callback.urgent.desc(), Callback.due_at, Callback.id)
        )
        for reference, due_at, urgent, officer, first_attempt_at, assigned_to in rows:
            item = Item(reference, due_at, urgent, officer)
            waiting = first_attempt_at is None
            if waiting and due_at < now:
                digest.overdue.append(item)
            elif waiting and clock.local_date(due_at) == today:
                digest.due_today.append(item)
            if urgent:
                digest.urgent.append(item)
            if assigned_to is None:
                digest.unassigned.append(item)
        drafts = await session.scalars(
            select(Conversation).where(Conversation.enquiry_id.is_(None))
        )
        digest.urgent_without_enquiry = sum(bool(c.state.get("urgent")) for c in drafts)
        previous = clock.working_days_before(today, 1)
        digest.yesterday_day = previous[0] if previous else None
        digest.yesterday = await _share(session, settings, previous)
        digest.rolling = await _share(
            session, settings, clock.working_days_before(today, ROLLING_DAYS)
        )
    return digest


def _lines(items: list[Item], settings: Settings) -> list[str]:
    return [
        f"  {i.reference}  due {when(i.due_at, settings)}  {i.officer or 'UNASSIGNED'}"
        + ("  URGENT" if i.urgent else "")
        for i in items
    ] or ["  none"]


def _table(items: list[Item], settings: Settings) -> str:
    if not items:
        return "<p>none</p>"
    rows = "".join(
        f'<tr><td><a href="{html.escape(case_link(settings, i.reference))}">'
        f"{html.escape(i.reference)}</a></td><td>{html.escape(when(i.due_at, settings))}</td>"
        f"<td>{html.escape(i.officer or 'UNASSIGNED')}</td>"
        f"<td>{'URGENT' if i.urgent else ''}</td></tr>"
        for i in items
    )
    return f"<table><tr><th>Reference</th><th>Due</th><th>Officer</th><th></th></tr>{rows}</table>"


def render_digest(digest: Digest, settings: Settings) -> Message:
    sections = [
        ("Overdue", digest.overdue),
        ("Due today", digest.due_today),
        ("Urgent (safeguarding)", digest.urgent),
        ("Unassigned", digest.unassigned),
    ]
    previous = f"{digest.yesterday_day:%a %d %b}" if digest.yesterday_day else "-"
    kpi = [
        f"Answered within target, previous working day ({previous}): {digest.yesterday.text()}",
        f"Answered within target, last {ROLLING_DAYS} working days: {digest.rolling.text()} "
        f"(target {TARGET:.0%})",
    ]
    urgent = len(digest.urgent) + digest.urgent_without_enquiry
    subject = (
        f"Helpline digest {digest.day:%a %d %b}: {len(digest.overdue)} overdue, "
        f"{len(digest.due_today)} due today" + (f", {urgent} urgent" if urgent else "")
    )
    text = [subject, "", *kpi]
    markup = [f"<h1>{html.escape(subject)}</h1>", *(f"<p>{html.escape(k)}</p>" for k in kpi)]
    for title, items in sections:
        text += ["", f"{title} ({len(items)})", *_lines(items, settings)]
        markup += [f"<h2>{html.escape(title)} ({len(items)})</h2>", _table(items, settings)]
    if digest.urgent_without_enquiry:
        line = f"Urgent conversations with no enquiry yet: {digest.urgent_without_enquiry}"
        text += ["", line, f"  {case_link(settings, None)}/safeguarding"]
        markup.append(f"<h2>{html.escape(line)}</h2>")
    text += ["", f"The queue: {case_link(settings, None)}"]
    return Message(subject, "\n".join(text), "<html><body>" + "".join(markup) + "</body></html>")


async def _already_sent(session: AsyncSession, kind: str, settings: Settings, day: date) -> bool:
    start, end = _local_bounds(settings, day, day)
    found = await session.scalar(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.kind == kind,
            OutboxMessage.created_at >= start,
            OutboxMessage.created_at < end,
        )
        .limit(1)
    )
    return found is not None


async def send_digest(services: Services, now: datetime, *, force: bool = False) -> int:
    """Queue today's digest to every active manager; once a working day unless forced."""
    settings = services.settings
    today = services.clock.local_date(now)
    if not force and not services.clock.is_working_day(today):
        return 0
    message = render_digest(await build_digest(services, now), settings)
    async with services.sessions.begin() as session:
        if not force and await _already_sent(session, "digest", settings, today):
            return 0
        return to_staff(session, settings, await managers(session), "digest", message, now=now)


async def send_officer_queues(services: Services, now: datetime) -> int:
    """At 09:00 each officer gets their own open callbacks in due order, urgent first."""
    settings = services.settings
    today = services.clock.local_date(now)
    if not services.clock.is_working_day(today):
        return 0
    rows = 0
    async with services.sessions.begin() as session:
        if await _already_sent(session, "officer_queue", settings, today):
            return 0
        result = await session.execute(
            select(Callback, Enquiry.reference, Staff)
            .join(Enquiry, Callback.enquiry_id == Enquiry.id)
            .join(Staff, Callback.assigned_to == Staff.id)
            .where(Callback.status.in_(OPEN_STATUSES), Staff.active.is_(True))
            .order_by(Staff.id, Callback.urgent.desc(), Callback.due_at, Callback.id)
        )
        queues: dict[int, tuple[Staff, list[Item]]] = {}
        for callback, reference, staff in result.all():
            entry = queues.setdefault(staff.id, (staff, []))
            entry[1].append(Item(reference, callback.due_at, callback.urgent, staff.name))
        for staff, items in queues.values():
            subject = f"Your callbacks today: {len(items)}"
            lines = [*_lines(items, settings), "", case_link(settings, None)]
            markup = f"<h1>{html.escape(subject)}</h1>{_table(items, settings)}"
            message = Message(subject, "\n".join(lines), f"<html><body>{markup}</body></html>")
            rows += to_staff(session, settings, [staff], "officer_queue", message, now=now)
    return rows
