"""The people who work the queue and what the service keeps about them: second factor,
the rota, the audit log, sign-in attempts, and the scheduler's job runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models.base import Base


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


class LoginAttempt(Base):
    """Recent sign-in attempts, to throttle guessing per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]


class JobRun(Base):
    """When each scheduled job last finished well: readiness and /metrics read it from any
    process, since the scheduler itself serves no HTTP."""

    __tablename__ = "job_run"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime]
