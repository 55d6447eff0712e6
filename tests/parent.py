"""A parent going through the intake on the real router, and a row counter (shared by tests)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from bot.conversation.router import Inbound, Router
from bot.core.services import Services
from flows.engine import Reply

# One good answer per intake step (flows/intake.py), in the order the intake asks them.
STEP_ANSWERS = {
    "consent": "yes",
    "asker": "1",
    "topic": "2",
    "stage": "2",
    "child_age": "Year 4",
    "setting": "2",
    "description": "The school says they cannot meet his needs.",
    "phone": "07700 900123",
    "best_time": "1",
    "voicemail_ok": "yes",
    "interpreter": "no",
    "share_consent": "1",
    "heard_from": "5",
}
ANSWERS = list(STEP_ANSWERS.values())
CONFIRM = "1"  # "1. Yes, send it" on the summary


class Parent:
    """One parent on one channel: every message gets a fresh provider id."""

    def __init__(
        self,
        services: Services,
        channel: str = "console",
        address: str | None = None,
        language: str | None = None,
    ):
        self.router: Router = services.router
        self.services = services
        self.channel = channel
        self.address = address or uuid.uuid4().hex
        self.language = language

    def inbound(self, text: str, provider_id: str | None = None) -> Inbound:
        return Inbound(
            channel=self.channel,
            address=self.address,
            provider_id=provider_id or uuid.uuid4().hex,
            text=text,
            received_at=self.services.now(),
            language_hint=self.language,
        )

    async def say(self, text: str) -> list[Reply]:
        return await self.router.deliver(self.inbound(text))

    async def complete(self, **overrides: str) -> list[Reply]:
        """Greet, answer every step (`overrides` by step key, e.g. description=...), confirm."""
        unknown = overrides.keys() - STEP_ANSWERS.keys()
        if unknown:
            raise KeyError(f"not intake steps: {sorted(unknown)}")
        answers = {**STEP_ANSWERS, **overrides}
        await self.say("hello")
        replies: list[Reply] = []
        for text in [*answers.values(), CONFIRM]:
            replies = await self.say(text)
        return replies


async def count(services: Services, model: type, *where: object) -> int:
    """How many rows of `model` (matching `where`, if given) are stored."""
    async with services.sessions() as session:
        statement = select(func.count()).select_from(model).where(*where)  # type: ignore[arg-type]
        return int(await session.scalar(statement) or 0)
