"""What staff are told, and whom: alert texts and the fan-out from "duty"/"managers" rows.

Staff mail and Telegram carry the reference, the due time and a link to the case, never the
parent's words, name or number: a mailbox or a phone is not the case record.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.core.settings import Settings
from bot.domain.callbacks import duty_officer
from storage import outbox
from storage.models import OutboxMessage, Staff

log = logging.getLogger(__name__)
TELEGRAM_PREFIX = "telegram:"
# Kinds that go by email only: long tables read at a desk, not on a phone.
EMAIL_ONLY = frozenset({"digest"})
# One safeguarding alert per conversation in this time; later concerns are counted on it.
ALERT_INTERVAL = timedelta(minutes=30)


@dataclass(frozen=True)
class Message:
    """One notice in three shapes: a mail subject, plain text (mail and Telegram), and HTML."""

    subject: str
    text: str
    html: str

    def email_payload(self) -> dict[str, Any]:
        return {"subject": self.subject, "text": self.text, "html": self.html}

    def telegram_payload(self) -> dict[str, Any]:
        return {"text": f"{self.subject}\n\n{self.text}"[:4000]}


def when(at: datetime, settings: Settings) -> str:
    """ "10:00 Tue 24 Nov" in the office's zone."""
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M %a %d %b")


def case_link(settings: Settings, reference: str | None) -> str:
    base = settings.public_url.rstrip("/")
    return f"{base}/staff/enquiries/{reference}" if reference else f"{base}/staff"


def simple(settings: Settings, subject: str, lines: Iterable[str], link: str) -> Message:
    body = [*lines, "", f"Open it: {link}"]
    markup = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    markup += f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>'
    return Message(subject, "\n".join(body), f"<html><body>{markup}</body></html>")


def render_alert(kind: str, data: dict[str, Any], settings: Settings) -> Message:
    """The text of an alert row: only references, channels, steps and times go in."""
    reference = data.get("reference")
    link = case_link(settings, reference)
    due = data.get("due_at")
    due_text = when(datetime.fromisoformat(due), settings) if due else None
    if kind == "safeguarding_alert":
        where = f"enquiry {reference}" if reference else f"a {data.get('channel')} conversation"
        times = int(data.get("count") or 1)
        lines = [
            f"A safeguarding concern was raised in {where}"
            + (f" ({times} times in this conversation)." if times > 1 else "."),
            "The contact was given 999, children's services and the NSPCC numbers.",
            "Please read the conversation and act on it now.",
        ]
        return simple(
            settings, f"URGENT safeguarding concern {reference or ''}".strip(), lines, link
        )
    if kind == "unassigned_alert":
        lines = [
            f"Nobody is on the duty rota for new callback {reference}.",
            f"It is due by {due_text}. Please assign it, and check `helpline rota show`.",
        ]
        return simple(settings, f"Unassigned callback {reference}", lines, link)
    if kind == "reminder":
        lines = [f"Callback {reference} is due by {due_text} and nobody has tried it yet."]
        return simple(settings, f"Reminder: {reference} due {due_text}", lines, link)
    if kind == "escalation":
        lines = [
            f"Callback {reference} was due by {due_text} and no attempt is recorded.",
            "The one-working-day target is missed; please call now or reassign it.",
        ]
        return simple(settings, f"OVERDUE: {reference} was due {due_text}", lines, link)
    return simple(settings, f"Helpline notice {reference or ''}".strip(), [kind], link)


async def safeguarding_alert(
    session: AsyncSession,
    clock: WorkingClock,
    *,
    contact_id: int,
    enquiry_id: int | None,
    reference: str | None,
    channel: str,
    step: str,
    now: datetime,
) -> bool:
    """Queue the duty alert for a concern, unless this conversation already had one within
    ALERT_INTERVAL: then count the concern on that alert instead. True when a row was queued.

    Six risky messages in a second are one alert that says "6 times", not six alerts."""
    recent = await session.scalar(
        select(OutboxMessage)
        .where(
            OutboxMessage.kind == "safeguarding_alert",
            OutboxMessage.contact_id == contact_id,
            OutboxMessage.created_at > now - ALERT_INTERVAL,
        )
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    if recent is not None:
        payload = dict(recent.payload)
        payload["count"] = int(payload.get("count") or 1) + 1
        payload["reference"] = payload.get("reference") or reference
        recent.payload = payload  # a new dict, so the encrypted column is written again
        return False
    outbox.enqueue(
        session,
        channel="staff",
        address="duty",
        kind="safeguarding_alert",
        payload={"reference": reference, "channel": channel, "step": step, "count": 1},
        now=now,
        contact_id=contact_id,
        enquiry_id=enquiry_id,
        send_after=clock.next_opening(now),  # now in office hours, else at the opening
    )
    return True


async def managers(session: AsyncSession) -> list[Staff]:
    statement = select(Staff).where(Staff.role == "manager", Staff.active.is_(True))
    return list(await session.scalars(statement.order_by(Staff.id)))


def to_staff(
    session: AsyncSession,
    settings: Settings,
    people: Iterable[Staff],
    kind: str,
    message: Message,
    *,
    now: datetime,
    send_after: datetime | None = None,
    enquiry_id: int | None = None,
) -> int:
    """Queue `message` to each person by email and by Telegram (when they have a chat id)."""
    rows = 0
    seen: set[int] = set()
    for person in people:
        if person.id in seen or not person.active:
            continue
        seen.add(person.id)
        common: dict[str, Any] = {
            "kind": kind,
            "now": now,
            "send_after": send_after,
            "enquiry_id": enquiry_id,
        }
        if settings.smtp_url and person.email:
            outbox.enqueue(
                session,
                channel="email",
                address=person.email,
                payload=message.email_payload(),
                **common,
            )
            rows += 1
        if settings.telegram_bot_token and person.telegram_chat_id and kind not in EMAIL_ONLY:
            outbox.enqueue(
                session,
                channel="staff",
                address=TELEGRAM_PREFIX + person.telegram_chat_id,
                payload=message.telegram_payload(),
                **common,
            )
            rows += 1
    if not rows:
        log.warning("%s: no staff reachable (set HELPLINE_SMTP_URL or Telegram chat ids)", kind)
    return rows


async def fan_out(
    session: AsyncSession,
    settings: Settings,
    clock: WorkingClock,
    row: OutboxMessage,
    now: datetime,
) -> int:
    """Turn a "duty"/"managers" row into one row per person and medium, sent when the office is
    open: at once in office hours, at the next opening otherwise."""
    people = await managers(session)
    if row.address == "duty":
        officer = await duty_officer(session, clock.clock_start_day(now))
        if officer is not None:
            people.insert(0, officer)
    message = render_alert(row.kind, dict(row.payload), settings)
    send_after = clock.next_opening(max(now, row.send_after))
    return to_staff(
        session,
        settings,
        people,
        row.kind,
        message,
        now=now,
        send_after=send_after,
        enquiry_id=row.enquiry_id,
    )
