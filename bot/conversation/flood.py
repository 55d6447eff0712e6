"""A flood from one sender: a small token bucket per address, so one parent (or a stuck
script) cannot run the intake faster than a person types.

A message over the limit is still kept (recorded, transcribed, so it joins the same enquiry)
but does not advance the intake; the parent hears once to slow down. Words suggesting a child
at risk never reach the guard: the router answers those first (bot/conversation/safety.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.records import transcribe
from flows.engine import N_, Reply

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from flows.engine import Engine
    from storage.models import Contact, Conversation

SLOW_DOWN = N_(
    "You are sending messages very quickly. We have kept what you sent; "
    "please wait a moment, then answer the last question again."
)
BURST = 30
REFILL_SECONDS = 2.0
MAX_TRACKED = 10_000


@dataclass
class _Bucket:
    tokens: float
    at: datetime
    warned: bool = False


class FloodGuard:
    """Per-(channel, address) token bucket on the router's clock; in memory, per process."""

    def __init__(self, burst: int = BURST, refill_seconds: float = REFILL_SECONDS) -> None:
        self.burst = burst
        self.refill_seconds = refill_seconds
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def _refilled(self, bucket: _Bucket, now: datetime) -> float:
        gained = max(0.0, (now - bucket.at).total_seconds()) / self.refill_seconds
        return min(float(self.burst), bucket.tokens + gained)

    def allow(self, key: tuple[str, str], now: datetime) -> tuple[bool, bool]:
        """(allowed, first refusal since the last allowed message)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens, bucket.at = self._refilled(bucket, now), now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True, False
        first = not bucket.warned
        bucket.warned = True
        return False, first

    def _prune(self, now: datetime) -> None:
        full = [k for k, b in self._buckets.items() if self._refilled(b, now) >= self.burst]
        for key in full:
            del self._buckets[key]
        while len(self._buckets) >= MAX_TRACKED:  # everyone busy: forget the oldest
            del self._buckets[next(iter(self._buckets))]


async def throttled(
    engine: Engine,
    session: AsyncSession,
    contact: Contact,
    conversation: Conversation,
    text: str,
    warn: bool,
    now: datetime,
) -> list[Reply]:
    """Keep the message without advancing the intake, with one notice to slow down.

    A message with words about a child at risk never gets here: the router answers those
    first, throttled or not."""
    replies = [Reply(engine._(SLOW_DOWN))] if warn else []
    conversation.updated_at = now
    await transcribe(session, contact, conversation, text, replies, now)
    return replies
