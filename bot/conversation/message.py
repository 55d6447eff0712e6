"""The message contract: what a channel hands the router, and what one message produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flows.engine import Reply


@dataclass(frozen=True)
class Inbound:
    """A message from a parent, as every channel hands it over."""

    channel: str
    address: str
    provider_id: str
    text: str
    received_at: datetime
    language_hint: str | None = None
    known_phone: str | None = None  # a number the channel gives, checked when a conversation begins

    def payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "language_hint": self.language_hint,
            "known_phone": self.known_phone,
        }


@dataclass(frozen=True)
class Processed:
    """What one message produced: the replies, and the contact's language once it was done."""

    replies: list[Reply]
    language: str | None  # None when the contact was forgotten (or never existed)
