"""The retention schedule over a simulated year: drafts go, closed cases are anonymised."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.services import Services
from bot.core.settings import Settings, SettingsError
from bot.domain import retention
from bot.domain.retention import RetentionPolicy, apply_retention
from bot.wiring import build_services
from storage.models import (
    AuditEntry,
    CaseAction,
    CaseNote,
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
    OutboxMessage,
    RiskMatch,
    SurveyResponse,
    TranscriptLine,
)
from tests.conftest import FakeClock, london
from tests.parent import ANSWERS, Parent, count

RETENTION = {"closed_years": 1, "unfinished_days": 30, "inbox_days": 30, "outbox_days": 90}


@pytest.fixture
async def year(settings: Settings, clock: FakeClock) -> AsyncIterator[Services]:
    built = build_services(replace(settings, extra={"retention": RETENTION}), now=clock)
    yield built
    await built.close()


async def close(services: Services, reference: str, *, hold: bool = False) -> None:
    now = services.now()
    async with services.sessions.begin() as session:
        enquiry = await session.scalar(select(Enquiry).where(Enquiry.reference == reference))
        assert enquiry is not None
        enquiry.status, enquiry.closed_at, enquiry.legal_hold = "closed", now, hold
        enquiry.category = "EHC needs assessment"
        session.add_all(
            [
                CaseNote(enquiry_id=enquiry.id, text="Mum worried about Jamie", at=now),
                CaseAction(enquiry_id=enquiry.id, category="Advice", note="Sent letter", at=now),
                SurveyResponse(enquiry_id=enquiry.id, rating=4, helped="A lot", received_at=now),
                AuditEntry(at=now, actor="officer", action="close", enquiry_id=enquiry.id),
            ]
        )


async def reference_of(services: Services, address: str) -> str:
    async with services.sessions() as session:
        contacts = list(await session.scalars(select(Contact)))
        contact = next(c for c in contacts if c.address == address)
        enquiry = await session.scalar(select(Enquiry).where(Enquiry.contact_id == contact.id))
        assert enquiry is not None
        return enquiry.reference


async def test_a_year_of_retention(year: Services, clock: FakeClock) -> None:
    finished = Parent(year, channel="sms", address="+447700900111")
    await finished.complete()
    kept = Parent(year, channel="sms", address="+447700900222")
    await kept.complete()
    abandoned = Parent(year, channel="webchat")
    await abandoned.say("hi")
    await abandoned.say("yes")
    worried = Parent(year, channel="webchat")
    await worried.say("hi")
    await worried.say("he wants to kill himself")
    async with year.sessions.begin() as session:
        sent = list(await session.scalars(select(OutboxMessage)))
        assert "safeguarding_alert" in {row.kind for row in sent}
        for row in sent:
            row.status, row.sent_at = "sent", clock()
    clock.advance(days=8)
    await close(year, await reference_of(year, finished.address))
    await close(year, await reference_of(year, kept.address), hold=True)
    assert await count(year, Conversation) == 4
    inbox_before = await count(year, InboxMessage)

    history: dict[int, dict[str, int]] = {}
    for month in range(1, 14):
        clock.set(london(2026, 11, 23, 10, 0) + timedelta(days=31 * month))
        history[month] = await apply_retention(year, clock())

    # Month 1: the abandoned draft (and its contact) went; the urgent chat stays.
    assert history[1]["conversations"] == 3  # abandoned + the two finished ones at "done"
    assert history[1]["contacts"] == 0  # the abandoned one went with its draft
    assert history[1]["inbox messages"] == inbox_before
    # Month 4: the sent alert is past its 90 days.
    # A year after closing: anonymised, except the one under legal hold.
    anonymised_month = next(m for m, h in history.items() if h["enquiries anonymised"])
    assert anonymised_month == 13
    async with year.sessions() as session:
        closed = select(Enquiry).where(Enquiry.status == "closed")  # not the urgent one
        enquiries = {e.legal_hold: e for e in await session.scalars(closed)}
        notes = list(await session.scalars(select(CaseNote)))
        actions = list(await session.scalars(select(CaseAction)))
        surveys = list(await session.scalars(select(SurveyResponse)))
        matches = list(await session.scalars(select(RiskMatch)))
    gone, held = enquiries[False], enquiries[True]
    # Sent messages went after 90 days, except those about the enquiry under legal hold.
    expired = [row for row in sent if row.enquiry_id != held.id]
    assert history[3]["outbox messages"] == len(expired)
    assert sum(h["outbox messages"] for h in history.values()) == len(expired)
    assert await count(year, OutboxMessage) == len(sent) - len(expired)
    assert gone.description is None and gone.callback_phone is None and gone.answers == {}
    assert gone.callback_phone_hash is None and gone.contact_id is None
    assert gone.anonymised_at is not None
    assert (gone.topic, gone.category, gone.received_at) == (
        "ehc",
        "EHC needs assessment",
        london(2026, 11, 23, 10, 0),
    )
    assert held.description == ANSWERS[6] and held.callback_phone == "+447700900123"
    assert [n.enquiry_id for n in notes] == [held.id]
    assert sorted((a.enquiry_id, a.note) for a in actions) == [
        (gone.id, None),
        (held.id, "Sent letter"),
    ]
    assert sorted((s.rating, s.helped or "") for s in surveys) == [(4, ""), (4, "A lot")]
    assert await count(year, TranscriptLine, TranscriptLine.enquiry_id == gone.id) == 0
    assert await count(year, TranscriptLine, TranscriptLine.enquiry_id == held.id) > 0
    # The finished parent's contact went once nothing tied it to a case; the worried parent's
    # stays with their urgent enquiry, open until an officer closes it.
    addresses = [c.address for c in await _contacts(year)]
    assert addresses == [kept.address, worried.address]
    assert sum(h["contacts"] for h in history.values()) == 1
    # The urgent chat's draft stayed for the whole long period (closed_years), then went; the
    # concern itself is an urgent enquiry from the first message, and its match goes with it.
    assert [m for m, h in history.items() if h["conversations"]] == [1, 12]
    assert await count(year, Conversation) == 0
    worried_reference = await reference_of(year, worried.address)
    assert len(matches) == 1 and matches[0].enquiry_id not in {gone.id, held.id}
    assert worried_reference not in {gone.reference, held.reference}
    assert await count(year, AuditEntry) == 2  # kept for audit_years (6)


async def _contacts(services: Services) -> list[Contact]:
    async with services.sessions() as session:
        return list(await session.scalars(select(Contact).order_by(Contact.id)))


async def test_a_dry_run_changes_nothing(year: Services, clock: FakeClock) -> None:
    draft = Parent(year, channel="webchat")
    await draft.say("hi")
    clock.advance(days=31)
    counts = await apply_retention(year, clock(), dry_run=True)
    assert counts["conversations"] == 1 and counts["inbox messages"] == 1
    assert await count(year, Conversation) == 1 and await count(year, InboxMessage) == 1


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"closed_yeers": 6}, "unknown"),
        ({"inbox_days": 0}, "whole number"),
        ({"audit_years": "x"}, "whole number"),
    ],
)
def test_bad_retention_settings_are_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        RetentionPolicy.from_settings(Settings(extra={"retention": table}))


async def test_closed_enquiries_are_anonymised_across_batches(
    year: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "SCRUB_BATCH", 2)
    parents = [Parent(year, channel="sms", address=f"+44770090033{n}") for n in range(3)]
    for parent in parents:
        await parent.complete()
        await close(year, await reference_of(year, parent.address))
    clock.advance(days=800)
    done = await apply_retention(year, clock())
    assert done["enquiries anonymised"] == 3
    assert await count(year, Enquiry, Enquiry.anonymised_at.is_(None)) == 0
    assert await count(year, Enquiry, Enquiry.callback_phone_hash.is_not(None)) == 0
    assert await count(year, Enquiry, Enquiry.contact_id.is_not(None)) == 0
    assert await count(year, Conversation) == 0
