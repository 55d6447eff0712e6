"""What a fault run is judged by: each parent's replies against the fault-free run's, and the
store afterwards (one enquiry with one callback per parent).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select

from storage.crypto import lookup_hash
from storage.db import make_engine, make_sessionmaker
from storage.models import Callback, Contact, Enquiry, OutboxMessage

REFERENCE = re.compile(r"PP-[23456789A-Z]{6}")
CLOCK_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")


def normalised(text: str) -> str:
    """A reply as compared between runs: the random reference and the due time left out."""
    return CLOCK_TIME.sub("hh:mm", REFERENCE.sub("PP-??????", text))


def collapsed(texts: Sequence[str]) -> list[str]:
    """A chat as the parent reads it with every repeat of an earlier message left out: a row
    sent again after a crash may arrive after later ones (the intake never asks twice)."""
    read: list[str] = []
    for text in texts:
        if text not in read:
            read.append(text)
    return read


@dataclass
class Outcome:
    """What one parent saw: per step, the replies (SMS) or the chat so far (Telegram)."""

    name: str
    replies: list[list[str]] = field(default_factory=list)
    acknowledged: int = 0
    retries: int = 0
    stalled: bool = False  # waited in vain for a reply (a Telegram row never sent)
    errors: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # found in the store afterwards


@dataclass
class Tally:
    """The run against its reference: what was acknowledged, lost and doubled."""

    acknowledged: int = 0
    replies: int = 0
    lost: int = 0
    doubled: int = 0
    retries: int = 0
    problems: list[str] = field(default_factory=list)


def compare(reference: list[Outcome], run: list[Outcome]) -> Tally:
    tally = Tally()
    for expected, seen in zip(reference, run, strict=True):
        tally.problems += seen.problems
        tally.acknowledged += seen.acknowledged
        tally.retries += seen.retries
        if expected.name.startswith("sms"):
            for step, (want, got) in enumerate(zip(expected.replies, seen.replies, strict=False)):
                tally.replies += len(want)
                if got != want:
                    tally.lost += len(want)
                    tally.problems.append(f"{seen.name} step {step}: {got!r} instead of {want!r}")
            continue
        want_chat = expected.replies[-1]
        got_chat = seen.replies[-1] if seen.replies else []
        tally.replies += len(want_chat)
        tally.doubled += len(got_chat) - len(collapsed(got_chat))
        got = collapsed(got_chat)
        if got != want_chat:
            tally.lost += max(len(want_chat) - len(got), 1)
            first = next(
                (n for n, (a, b) in enumerate(zip(got, want_chat, strict=False)) if a != b), None
            )
            where = min(len(got), len(want_chat)) if first is None else first
            tally.problems.append(
                f"{seen.name}: {len(got)} of {len(want_chat)} messages, first difference at "
                f"{where}: {got[where : where + 1]!r} instead of {want_chat[where : where + 1]!r}"
            )
        if seen.stalled:
            tally.problems.append(f"{seen.name}: stalled at step {len(seen.replies) - 1}")
    return tally


class Store:
    """Read-only looks at the database the servers share."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)

    async def settled(self, chat: int) -> bool:
        async with self.sessions() as session:
            waiting = await session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(
                    OutboxMessage.address_hash == lookup_hash(str(chat)),
                    OutboxMessage.status.in_(("pending", "sending")),
                )
            )
        return not waiting

    async def one_enquiry_each(self, parents: list[tuple[str, str]]) -> list[str]:
        """Problems: a parent without exactly one enquiry with exactly one callback."""
        problems = []
        async with self.sessions() as session:
            for channel, address in parents:
                enquiries = list(
                    await session.scalars(
                        select(Enquiry.id)
                        .join(Contact, Enquiry.contact_id == Contact.id)
                        .where(Contact.channel == channel)
                        .where(Contact.address_hash == lookup_hash(address))
                    )
                )
                callbacks = await session.scalar(
                    select(func.count())
                    .select_from(Callback)
                    .where(Callback.enquiry_id.in_(enquiries))
                )
                if len(enquiries) != 1 or callbacks != 1:
                    problems.append(
                        f"{channel} parent: {len(enquiries)} enquiries, {callbacks} callbacks"
                    )
        return problems

    async def close(self) -> None:
        await self.engine.dispose()
