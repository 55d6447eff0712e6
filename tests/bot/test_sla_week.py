"""A whole Christmas week on the injected clock: reminders, escalations and digests at the right
moments, nothing on the bank holidays or the weekend, and nothing twice however often it runs.

Christmas 2026: Friday 25 December and Monday 28 December (Boxing Day's substitute) are closed.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.core.settings import Settings
from bot.domain.digest import send_digest, send_officer_queues
from bot.domain.sla import sweep
from storage.models import Callback, Enquiry
from tests.bot.queue_helpers import (
    add_staff,
    on_duty_every_weekday,
    outbox_rows,
    receive,
    services_with,
)
from tests.conftest import FakeClock, london

LONDON = ZoneInfo("Europe/London")


async def test_a_christmas_week_of_alerts(settings: Settings, clock: FakeClock) -> None:
    services = services_with(settings, clock)
    try:
        claire = await add_staff(services, "claire@council.gov.uk", chat_id="1001")
        await add_staff(services, "sue@council.gov.uk", role="manager")
        await on_duty_every_weekday(services, claire)
        arrivals = {
            london(2026, 12, 21, 10, 0): "A",  # due Tue 22 10:00
            london(2026, 12, 21, 11, 0): "C",  # tried at 14:00 the same day: never chased
            london(2026, 12, 24, 16, 0): "B",  # due Tue 29 16:00, over two bank holidays
            london(2026, 12, 26, 20, 0): "D",  # urgent, Saturday night: due Tue 29 10:00
        }
        references: dict[str, str] = {}
        seen = 0
        events: list[tuple[str, str, str, str]] = []  # (local time, kind, channel, enquiry)
        clock.set(london(2026, 12, 21, 7, 0))
        end = london(2026, 12, 30, 18, 0)
        while clock() <= end:
            now = clock()
            local = now.astimezone(LONDON)
            if now in arrivals:
                name = arrivals[now]
                references[name] = await receive(services, now, urgent=name == "D")
            if now == london(2026, 12, 21, 14, 0):
                async with services.sessions.begin() as session:
                    await session.execute(
                        update(Callback)
                        .where(
                            Callback.enquiry_id
                            == select(Enquiry.id)
                            .where(Enquiry.reference == references["C"])
                            .scalar_subquery()
                        )
                        .values(first_attempt_at=now, met_target=True, status="attempted")
                    )
            for _ in range(3):  # the sweep runs again and again: each notice goes once
                await sweep(services, now)
                if (local.hour, local.minute) == (8, 30):
                    await send_digest(services, now)
                if (local.hour, local.minute) == (9, 0):
                    await send_officer_queues(services, now)
            rows = await outbox_rows(services)
            by_id = {v: k for k, v in references.items()}
            for row in rows[seen:]:
                assert row.created_at == now
                name = ""
                for reference, label in by_id.items():
                    if reference in str(row.payload):
                        name = label
                events.append((local.strftime("%a %d %H:%M"), row.kind, row.channel, name))
            seen = len(rows)
            clock.advance(minutes=30)

        alerts = Counter((t, k, n) for t, k, _, n in events if k in {"reminder", "escalation"})
        assert alerts == {
            ("Mon 21 16:00", "reminder", "A"): 2,  # officer: email + Telegram
            ("Tue 22 10:00", "escalation", "A"): 3,  # officer (2) + manager (email)
            ("Tue 29 09:00", "reminder", "D"): 2,  # urgent: one working hour after opening
            ("Tue 29 10:00", "escalation", "D"): 3,
            ("Tue 29 14:00", "reminder", "B"): 2,  # two working hours before 16:00
            ("Tue 29 16:00", "escalation", "B"): 3,
        }
        digests = [t for t, k, _, _ in events if k == "digest"]
        assert digests == [
            "Mon 21 08:30",
            "Tue 22 08:30",
            "Wed 23 08:30",
            "Thu 24 08:30",
            "Tue 29 08:30",
            "Wed 30 08:30",
        ]
        queues = sorted({t for t, k, _, _ in events if k == "officer_queue"})
        assert queues == [
            "Thu 24 09:00",
            "Tue 22 09:00",
            "Tue 29 09:00",
            "Wed 23 09:00",
            "Wed 30 09:00",
        ]
        closed = {"Fri 25", "Sat 26", "Sun 27", "Mon 28"}
        assert not [e for e in events if e[0][:6] in closed]

        # Wednesday's digest: A overdue; Tuesday's share answered within target is C of A and C.
        wednesday = next(
            r
            for r in await outbox_rows(services, kind="digest")
            if r.created_at == london(2026, 12, 23, 8, 30)
        )
        text = wednesday.payload["text"]
        assert "1 overdue" in wednesday.payload["subject"]
        overdue = text.split("Overdue (1)")[1].split("Due today")[0]
        assert references["A"] in overdue
        assert "previous working day (Tue 22 Dec): 1/2 (50%)" in text
        assert "My son" not in text and "+44" not in text  # never the parent's words or number
    finally:
        await services.close()


async def test_an_unanswered_callback_is_escalated_when_the_office_opens_after_a_gap(
    settings: Settings, clock: FakeClock
) -> None:
    """The scheduler was down over the weekend: the escalation waits for Monday's opening."""
    services = services_with(settings, clock)
    try:
        await add_staff(services, "sue@council.gov.uk", role="manager")
        reference = await receive(services, london(2026, 11, 26, 16, 0))  # due Fri 27 16:00
        assert not (await sweep(services, london(2026, 11, 30, 7, 0))).escalated
        result = await sweep(services, london(2026, 11, 30, 9, 0))
        assert result.escalated == 1
        rows = await outbox_rows(services, kind="escalation")
        assert [r.address for r in rows] == ["sue@council.gov.uk"]
        assert reference in rows[0].payload["subject"]
        assert timedelta(0) == rows[0].send_after - london(2026, 11, 30, 9, 0)
    finally:
        await services.close()
