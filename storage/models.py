"""The records of the service: contacts, conversations, enquiries, callbacks, staff and rota.

The store is the truth: deadlines are columns, so the scheduler only sweeps rows and a restart
loses and doubles nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from storage.crypto import EncryptedJSON, EncryptedText, lookup_hash
from storage.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        date: Date(),
    }


class Contact(Base):
    """A person reachable at one address on one channel (a Telegram chat, a phone, a web chat)."""

    __tablename__ = "contact"
    # The address is ciphertext (random each write): uniqueness and look-ups use its keyed hash.
    __table_args__ = (
        Index("uq_contact_channel_address_hash", "channel", "address_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText())
    address_hash: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    last_inbound_at: Mapped[datetime | None]

    @validates("address")
    def _hash_address(self, _key: str, address: str) -> str:
        self.address_hash = lookup_hash(address)
        return address


class Conversation(Base):
    """The state of one contact's unfinished flow; deleted when it ends."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), unique=True
    )
    flow: Mapped[str] = mapped_column(String(32))
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    enquiry_id: Mapped[int | None] = mapped_column(ForeignKey("enquiry.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)


class InboxMessage(Base):
    """Every inbound delivery, committed before the provider gets its 2xx; one per provider id."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_inbox_channel_provider_id"),
        Index("ix_inbox_unprocessed", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(EncryptedText())
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    replies: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON())

    @validates("address")
    def _hash_address(self, _key: str, address: str) -> str:
        self.address_hash = lookup_hash(address)
        return address


class OutboxMessage(Base):
    """A message the service sends later (Telegram reply, SMS, email, alert); sent at most once."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_pending", "status", "send_after", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(EncryptedText())
    address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    enquiry_id: Mapped[int | None] = mapped_column(ForeignKey("enquiry.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    send_after: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(255))
    provider_message_id: Mapped[str | None] = mapped_column(String(64), index=True)

    @validates("address")
    def _hash_address(self, _key: str, address: str) -> str:
        self.address_hash = lookup_hash(address)
        return address


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


class Staff(Base):
    """An officer, manager or admin of the service."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(32))  # E.164; rung first for click-to-call
    languages: Mapped[str] = mapped_column(String(128), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # The second factor: the TOTP secret (encrypted), on once a code from it was confirmed.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]  # the last 30-second step a code was accepted for


class RecoveryCode(Base):
    """One-time codes for a lost authenticator, kept as keyed hashes; each works once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class KeyCheck(Base):
    """A value made with a key when it was first used, to notice a changed key at start."""

    __tablename__ = "key_check"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


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


class RotaDay(Base):
    """The weekly pattern: who takes new callbacks on each weekday (0 = Monday)."""

    __tablename__ = "rota_day"

    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))


class RotaOverride(Base):
    """A dated change to the pattern (leave, cover); no officer means nobody on duty that day."""

    __tablename__ = "rota_override"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))


class TranscriptLine(Base):
    """What was said in a conversation, so the officer never asks twice."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact.id", ondelete="CASCADE"), index=True
    )
    enquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    direction: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(EncryptedText())
    at: Mapped[datetime]


class AuditEntry(Base):
    """Who looked at or changed which record, and when: these are records about children."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    enquiry_id: Mapped[int | None] = mapped_column(index=True)
    detail: Mapped[str | None] = mapped_column(String(255))


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


class Recording(Base):
    """A voicemail left on the phone line; played to staff through the app, never a public link."""

    __tablename__ = "recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime]


class VoiceCall(Base):
    """Where one phone call has got to: its language, the number to ring, and its enquiry."""

    __tablename__ = "voice_call"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller: Mapped[str | None] = mapped_column(EncryptedText())
    caller_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    seq: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON())
    enquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry.id", ondelete="SET NULL"), index=True
    )
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)

    @validates("caller")
    def _hash_caller(self, _key: str, caller: str | None) -> str | None:
        self.caller_hash = None if caller is None else lookup_hash(caller)
        return caller


class RiskMatch(Base):
    """A safeguarding phrase list matched: which list and which step, for the manager to tune."""

    __tablename__ = "risk_match"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    phrase: Mapped[str] = mapped_column(String(128))
    step: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)


class LoginAttempt(Base):
    """Recent sign-in attempts, to throttle guessing per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]


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


class JobRun(Base):
    """When each scheduled job last finished well: readiness and /metrics read it from any
    process, since the scheduler itself serves no HTTP."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime]
