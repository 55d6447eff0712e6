"""The retention schedule: personal data is kept only as long as the service needs it.

Settings (TOML `[retention]`, all optional): unfinished_days, closed_years, inbox_days,
outbox_days, audit_years. Closed enquiries past the period are anonymised, not deleted: the
category, topic, dates and flags stay for the annual report, the words and numbers go.
An enquiry under legal hold is left exactly as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import years_before
from bot.core.settings import Settings, SettingsError
from bot.domain.records import forget
from flows.engine import DONE
from storage.models import (
    AuditEntry,
    CallAttempt,
    Callback,
    CaseAction,
    CaseNote,
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
    LoginAttempt,
    OutboxMessage,
    Recording,
    RiskMatch,
    SurveyResponse,
    TranscriptLine,
    VoiceCall,
)

if TYPE_CHECKING:
    from bot.core.services import Services


@dataclass(frozen=True)
class RetentionPolicy:
    unfinished_days: int = 30
    closed_years: int = 6
    inbox_days: int = 30
    outbox_days: int = 90
    audit_years: int = 6

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        raw = dict(settings.extra.get("retention", {}))
        names = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key not in names:
                raise SettingsError(f"setting retention.{key}: unknown (one of {sorted(names)})")
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SettingsError(f"setting retention.{key}: {value!r} is not a whole number ≥ 1")
            values[key] = value
        return cls(**values)


SCRUB_BATCH = 500  # enquiries per statement: well under SQLite's and asyncpg's parameter limits


async def _scrub_enquiries(session: AsyncSession, ids: list[int], now: datetime) -> None:
    """Keep what the annual report counts; drop the words, numbers and answers (in batches)."""
    for first in range(0, len(ids), SCRUB_BATCH):
        batch = ids[first : first + SCRUB_BATCH]
        await session.execute(
            update(Enquiry)
            .where(Enquiry.id.in_(batch))
            .values(
                description=None,
                callback_phone=None,
                callback_phone_hash=None,
                child_age=None,
                best_time=None,
                answers={},
                contact_id=None,
                anonymised_at=now,
            )
        )
        for model in (TranscriptLine, CaseNote, Recording, OutboxMessage, Conversation, VoiceCall):
            await session.execute(delete(model).where(model.enquiry_id.in_(batch)))
        await session.execute(
            update(CaseAction).where(CaseAction.enquiry_id.in_(batch)).values(note=None)
        )
        await session.execute(
            update(SurveyResponse).where(SurveyResponse.enquiry_id.in_(batch)).values(helped=None)
        )
        await session.execute(
            update(RiskMatch).where(RiskMatch.enquiry_id.in_(batch)).values(contact_id=None)
        )
        await session.execute(
            update(Callback).where(Callback.enquiry_id.in_(batch)).values(preferred_time=None)
        )
        callbacks = select(Callback.id).where(Callback.enquiry_id.in_(batch))
        await session.execute(
            update(CallAttempt).where(CallAttempt.callback_id.in_(callbacks)).values(note=None)
        )


async def _forget_unfinished(session: AsyncSession, policy: RetentionPolicy, now: datetime) -> int:
    """Drafts nobody finished; an urgent one (a child may be at risk) waits for the long period."""
    cutoff = now - timedelta(days=policy.unfinished_days)
    urgent_cutoff = years_before(now, policy.closed_years)
    stale = await session.scalars(select(Conversation).where(Conversation.updated_at < cutoff))
    count = 0
    for conversation in list(stale):
        state = conversation.state
        if state.get("urgent") and conversation.updated_at >= urgent_cutoff:
            continue
        if state.get("step") == DONE or conversation.enquiry_id is not None:
            await session.delete(conversation)
        else:
            contact = await session.get(Contact, conversation.contact_id)
            assert contact is not None
            await forget(session, contact, conversation)
        count += 1
    await session.flush()
    return count


async def apply_retention(
    services: Services, now: datetime, *, dry_run: bool = False
) -> dict[str, int]:
    """Delete or anonymise everything past its period; returns how many of each went."""
    policy = RetentionPolicy.from_settings(services.settings)
    unfinished = now - timedelta(days=policy.unfinished_days)
    done: dict[str, Any] = {}
    async with services.sessions() as session:
        done["conversations"] = await _forget_unfinished(session, policy, now)
        live = select(Conversation.contact_id)
        result = await session.execute(
            delete(TranscriptLine).where(
                TranscriptLine.enquiry_id.is_(None),
                TranscriptLine.at < unfinished,
                TranscriptLine.contact_id.not_in(live),
            )
        )
        done["draft transcript lines"] = result.rowcount  # type: ignore[attr-defined]
        result = await session.execute(
            delete(InboxMessage).where(
                InboxMessage.processed_at.is_not(None),
                InboxMessage.received_at < now - timedelta(days=policy.inbox_days),
            )
        )
        done["inbox messages"] = result.rowcount  # type: ignore[attr-defined]
        result = await session.execute(
            delete(VoiceCall).where(
                VoiceCall.enquiry_id.is_(None),
                VoiceCall.updated_at < now - timedelta(days=policy.inbox_days),
            )
        )
        done["phone calls"] = result.rowcount  # type: ignore[attr-defined]
        held = select(Enquiry.id).where(Enquiry.legal_hold.is_(True))
        result = await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.created_at < now - timedelta(days=policy.outbox_days),
                OutboxMessage.status.not_in(("pending", "sending")),
                (OutboxMessage.enquiry_id.is_(None) | OutboxMessage.enquiry_id.not_in(held)),
            )
        )
        done["outbox messages"] = result.rowcount  # type: ignore[attr-defined]
        closed = await session.scalars(
            select(Enquiry.id).where(
                Enquiry.status == "closed",
                Enquiry.closed_at < years_before(now, policy.closed_years),
                Enquiry.legal_hold.is_(False),
                Enquiry.anonymised_at.is_(None),
            )
        )
        ids = list(closed)
        await _scrub_enquiries(session, ids, now)
        done["enquiries anonymised"] = len(ids)
        orphans = await session.scalars(
            select(Contact).where(
                Contact.last_seen_at < unfinished,
                ~exists().where(Enquiry.contact_id == Contact.id),
                ~exists().where(Conversation.contact_id == Contact.id),
            )
        )
        done["contacts"] = 0
        for contact in list(orphans):
            await session.delete(contact)
            done["contacts"] += 1
        result = await session.execute(
            delete(AuditEntry).where(AuditEntry.at < years_before(now, policy.audit_years))
        )
        done["audit entries"] = result.rowcount  # type: ignore[attr-defined]
        result = await session.execute(
            delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=policy.inbox_days))
        )
        done["login attempts"] = result.rowcount  # type: ignore[attr-defined]
        if dry_run:
            await session.rollback()
        else:
            await session.commit()
    return {key: int(value) for key, value in done.items()}
