"""Random but reproducible casework for the report tests, inserted as rows of the store.

The expected figures are computed from the same Python list, by plain loops, never by the SQL
under test.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import WorkingClock
from bot.reports.categories import ACTION_CATEGORIES, CASE_CATEGORIES
from storage.models import Callback, CaseAction, Enquiry, HistoricalCase, SurveyResponse
from tests.conftest import LONDON

CHANNELS = ("telegram", "sms", "whatsapp", "voice", "webchat")
LANGUAGES = ("en", "pl", "ur", "cy")
TOPICS = (
    "sen_support",
    "ehc",
    "tribunal",
    "exclusion",
    "bullying",
    "admissions",
    "home_education",
    "attendance_transport",
    "other",
    None,
)
HEARD = ("school", "council", "website", "leaflet", None)
# Categories never used, so that the tables must still show them with zeros.
UNUSED = {"PPS Facilities", "Medical", "Transport"}
USED = [c for c in CASE_CATEGORIES if c not in UNUSED]


@dataclass
class Contact:
    received_at: datetime
    channel: str
    language: str
    topic: str | None
    category: str | None
    heard_from: str | None
    urgent: bool
    clock_started_at: datetime
    due_at: datetime
    first_attempt_at: datetime | None
    first_spoke_at: datetime | None
    actions: list[tuple[str, datetime]] = field(default_factory=list)
    rating: tuple[int, datetime] | None = None


@dataclass
class History:
    received_on: date
    category: str
    actions: int
    action_category: str | None
    heard_from: str | None


def contacts(
    seed: int, first: datetime, last: datetime, count: int, clock: WorkingClock
) -> list[Contact]:
    rng = random.Random(seed)
    span = (last - first).total_seconds()
    found = []
    for _ in range(count):
        received = first + timedelta(seconds=rng.randrange(int(span)))
        received = received.replace(microsecond=0)
        urgent = rng.random() < 0.1
        due = (
            clock.add_working_time(received, timedelta(hours=1))
            if urgent
            else clock.due_at(received)
        )
        attempt = (
            None if rng.random() < 0.15 else received + timedelta(minutes=rng.randrange(5, 72 * 60))
        )
        spoke = (
            None
            if attempt is None or rng.random() < 0.3
            else attempt + timedelta(minutes=rng.choice([0, 0, 30, 60 * 26]))
        )
        contact = Contact(
            received_at=received,
            channel=rng.choice(CHANNELS),
            language=rng.choice(LANGUAGES),
            topic=rng.choice(TOPICS),
            category=rng.choice(USED) if rng.random() < 0.6 else None,
            heard_from=rng.choice(HEARD),
            urgent=urgent,
            clock_started_at=clock.next_opening(received),
            due_at=due,
            first_attempt_at=attempt,
            first_spoke_at=spoke,
        )
        for _ in range(rng.randrange(0, 4)):
            contact.actions.append(
                (rng.choice(ACTION_CATEGORIES), received + timedelta(hours=rng.randrange(1, 400)))
            )
        if rng.random() < 0.5:
            contact.rating = (rng.randint(1, 5), received + timedelta(days=rng.randrange(1, 20)))
        found.append(contact)
    return found


def history(seed: int, first: date, last: date, count: int) -> list[History]:
    rng = random.Random(seed)
    days = (last - first).days + 1
    found = []
    for _ in range(count):
        actions = rng.randrange(0, 6)
        found.append(
            History(
                received_on=first + timedelta(days=rng.randrange(days)),
                category=rng.choice(USED),
                actions=actions,
                action_category=rng.choice(ACTION_CATEGORIES) if actions else None,
                heard_from=rng.choice(("School", "GP", "", "Website or internet search")) or None,
            )
        )
    return found


async def insert(session: AsyncSession, contacts: list[Contact], past: list[History]) -> None:
    """Store the enquiries with their callbacks, actions and surveys, and the imported history."""
    enquiries = []
    for n, c in enumerate(contacts):
        enquiry = Enquiry(
            reference=f"PP-T{n:05d}",
            channel=c.channel,
            language=c.language,
            received_at=c.received_at,
            topic=c.topic,
            category=c.category,
            heard_from=c.heard_from,
            urgent=c.urgent,
            incomplete=False,
            status="open",
            legal_hold=False,
            answers={},
        )
        enquiry.callback = Callback(
            status="queued",
            urgent=c.urgent,
            clock_started_at=c.clock_started_at,
            due_at=c.due_at,
            first_attempt_at=c.first_attempt_at,
            first_spoke_at=c.first_spoke_at,
            unanswered_attempts=0,
            created_at=c.received_at,
        )
        enquiries.append(enquiry)
    session.add_all(enquiries)
    await session.flush()
    for enquiry, c in zip(enquiries, contacts, strict=True):
        for category, at in c.actions:
            session.add(CaseAction(enquiry_id=enquiry.id, category=category, at=at))
        if c.rating:
            session.add(
                SurveyResponse(enquiry_id=enquiry.id, rating=c.rating[0], received_at=c.rating[1])
            )
    imported = datetime(2026, 1, 1, tzinfo=UTC)
    session.add_all(
        HistoricalCase(
            received_on=h.received_on,
            category=h.category,
            actions=h.actions,
            action_category=h.action_category,
            heard_from=h.heard_from,
            imported_at=imported,
        )
        for h in past
    )


def local_day(at: datetime) -> date:
    return at.astimezone(LONDON).date()
