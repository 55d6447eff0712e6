"""Every record the service keeps, by aggregate: the message path (conversations), the case
(cases) and the people who work it (staff). Import them from here."""

from storage.models.base import NAMING_CONVENTION, Base
from storage.models.cases import (
    OPEN_SQL,
    CallAttempt,
    Callback,
    CaseAction,
    CaseNote,
    Enquiry,
    HistoricalCase,
    OfficerCall,
    SurveyResponse,
)
from storage.models.conversations import (
    INBOX,
    TRANSCRIPT,
    Contact,
    Conversation,
    InboxMessage,
    OutboxMessage,
    Recording,
    RiskMatch,
    TranscriptLine,
    VoiceCall,
)
from storage.models.staff import (
    AuditEntry,
    JobRun,
    KeyCheck,
    LoginAttempt,
    RecoveryCode,
    RotaDay,
    RotaOverride,
    Staff,
)

__all__ = [
    "INBOX",
    "NAMING_CONVENTION",
    "OPEN_SQL",
    "TRANSCRIPT",
    "AuditEntry",
    "Base",
    "CallAttempt",
    "Callback",
    "CaseAction",
    "CaseNote",
    "Contact",
    "Conversation",
    "Enquiry",
    "HistoricalCase",
    "InboxMessage",
    "JobRun",
    "KeyCheck",
    "LoginAttempt",
    "OfficerCall",
    "OutboxMessage",
    "Recording",
    "RecoveryCode",
    "RiskMatch",
    "RotaDay",
    "RotaOverride",
    "Staff",
    "SurveyResponse",
    "TranscriptLine",
    "VoiceCall",
]
