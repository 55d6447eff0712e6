"""The message path's records: who wrote (Contact), the conversation in progress, every
delivery in and out (inbox, outbox), what was said, calls, recordings and risk matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from storage.crypto import EncryptedJSON, EncryptedText, lookup_hash
from storage.models.base import Base


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
    """A message the service sends later (Telegram reply, SMS, email, alert); sent at least once."""

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


# The tables the message path writes with Core statements (no ORM bookkeeping per line).
INBOX = cast(Table, InboxMessage.__table__)
TRANSCRIPT = cast(Table, TranscriptLine.__table__)
