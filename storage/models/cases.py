"""The case: the enquiry, its one callback and its deadline, what officers did about it,
the evaluation survey, and the service's history imported from earlier years."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from storage.crypto import EncryptedJSON, EncryptedText, lookup_hash
from storage.models.base import Base


class Enquiry(Base):
    """What a parent, carer or young person asked, in their words, with their consents."""

    __tablename__ = "enquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(index=True)
    asker: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(32))
    child_age: Mapped[str | None] = mapped_column(EncryptedText())
    setting: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(EncryptedText())
    callback_phone: Mapped[str | None] = mapped_column(EncryptedText())
    callback_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    best_time: Mapped[str | None] = mapped_column(String(32))
    voicemail_ok: Mapped[bool | None]
    interpreter: Mapped[bool | None]
    share_consent: Mapped[bool | None]
    heard_from: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(64))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    outcome: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None]
    survey_sent_at: Mapped[datetime | None]
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymised_at: Mapped[datetime | None]
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())

    callback: Mapped[Callback | None] = relationship(back_populates="enquiry", uselist=False)

    @validates("callback_phone")
    def _hash_phone(self, _key: str, phone: str | None) -> str | None:
        self.callback_phone_hash = None if phone is None else lookup_hash(phone)
        return phone


OPEN_SQL = "status IN ('queued', 'assigned', 'attempted')"  # bot.domain.callbacks.OPEN_STATUSES


class Callback(Base):
    """The promise to call back: one per open enquiry, with its deadline and its owner."""

    __tablename__ = "callback"
    __table_args__ = (
        Index("ix_callback_queue", "status", "urgent", "due_at", "id"),
        Index("ix_callback_officer_queue", "assigned_to", "status", "due_at", "id"),
        # "All callbacks" with any status: the page order itself (bench/RESULTS.md).
        Index("ix_callback_due_order", text("urgent DESC"), "due_at", "id"),
        Index(
            "ix_callback_open_order",
            text("urgent DESC"),
            "due_at",
            "id",
            postgresql_where=text(OPEN_SQL),
            sqlite_where=text(OPEN_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="queued")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    preferred_time: Mapped[str | None] = mapped_column(String(32))
    reminded_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    first_spoke_at: Mapped[datetime | None]
    met_target: Mapped[bool | None]
    unanswered_attempts: Mapped[int] = mapped_column(Integer, default=0)
    nudged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # Safeguarding work queue: who saw an urgent callback, and who dealt with the concern.
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    handled_at: Mapped[datetime | None]
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    # The parent wrote after the intake: replies the officer has not yet marked as read.
    parent_replies: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    replied_at: Mapped[datetime | None]
    # An officer's text failed (blocked, undelivered): set until a later one is delivered.
    text_unreachable_at: Mapped[datetime | None]

    enquiry: Mapped[Enquiry] = relationship(back_populates="callback")


class CallAttempt(Base):
    """One try by an officer to reach the parent; the first one answers the SLA."""

    __tablename__ = "call_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    at: Mapped[datetime]


class OfficerCall(Base):
    """A call an officer makes through the helpline's number: Twilio rings the officer, then the
    parent, who sees the service's number; the parent leg's outcome logs the attempt itself."""

    __tablename__ = "officer_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # the officer's leg: queued ... completed
    parent_status: Mapped[str | None] = mapped_column(String(16))  # DialCallStatus
    parent_seconds: Mapped[int | None]
    attempt_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_attempt.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CaseAction(Base):
    """Casework on an enquiry, by the annual report's "Actions breakdown by issue" category."""

    __tablename__ = "case_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    category: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    at: Mapped[datetime] = mapped_column(index=True)


class CaseNote(Base):
    """An officer's note on an enquiry."""

    __tablename__ = "case_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(EncryptedText())
    at: Mapped[datetime]


class SurveyResponse(Base):
    """The evaluation after a case closes: the seed's satisfaction KPI is counted from these."""

    __tablename__ = "survey_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[int | None] = mapped_column(Integer)
    helped: Mapped[str | None] = mapped_column(EncryptedText())
    received_at: Mapped[datetime] = mapped_column(index=True)


class HistoricalCase(Base):
    """A case imported from the service's old database, so year-on-year tables work at once."""

    __tablename__ = "historical_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_on: Mapped[date] = mapped_column(Date, index=True)
    category: Mapped[str] = mapped_column(String(64))
    action_category: Mapped[str | None] = mapped_column(String(64))
    actions: Mapped[int] = mapped_column(Integer, default=0)
    heard_from: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime]
    # SHA-256 of the imported file: the same file is refused a second time.
    import_batch: Mapped[str | None] = mapped_column(String(64), index=True)
