"""Where a message's Python calls go, stage by stage: `python -m bench.path_cost --stages`.

Every call (Python or C) is counted against the innermost stage function on its stack
(sys.setprofile), so the stages add up to the whole and a stage includes the SQLAlchemy,
driver and cryptography calls it makes. Calls under no stage are the event loop's own work:
waking tasks, the greenlet switches of SQLAlchemy's asyncio layer, aiosqlite's thread hand-offs.
"""

from __future__ import annotations

import sys
from collections import Counter
from types import FrameType
from typing import Any

import greenlet

LOOP = "event loop, greenlets, thread hand-offs (no stage)"
# Function (co_qualname) -> stage; the innermost one on the stack wins.
STAGES = {
    "Delivery.deliver_message": "delivery: lock, session, retries",
    "Delivery._in_turn": "delivery: lock, session, retries",
    "AsyncSession.begin": "transaction: begin, connection",
    "AsyncSession.connection": "transaction: begin, connection",
    "AsyncSessionTransaction.__aexit__": "transaction: flush and commit",
    "claim_inbound": "inbox row recorded (INSERT)",
    "mark_processed": "inbox row marked processed (UPDATE)",
    "arrived": "contact found or created (SELECT, INSERT/UPDATE)",
    "_conversation": "conversation read, locked (SELECT)",
    "insert_row": "conversation / contact written (INSERT)",
    "update_row": "conversation / contact written (UPDATE)",
    "transcribe": "transcript lines (INSERT)",
    "find_risk": "safeguarding scan (13 languages)",
    "Router._process_row": "routing: intercepts, flood guard",
    "take_turn": "the intake turn (flow engine)",
    "_ending": "the intake turn (flow engine)",
    "Router.engine": "the intake turn (flow engine)",
    "encrypt": "encryption (Fernet), keyed hash",
    "lookup_hash": "encryption (Fernet), keyed hash",
    "known_phone": "channel: phone check, SMS rendering",
    "render": "channel: phone check, SMS rendering",
}


class Stages:
    """A stand-in for cProfile.Profile in bench/path_cost.py: enable, disable, counts."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def enable(self) -> None:
        sys.setprofile(self._count)

    def disable(self) -> None:
        sys.setprofile(None)

    def _count(self, frame: FrameType, event: str, _arg: Any) -> None:
        if event not in ("call", "c_call"):
            return
        found: FrameType | None = frame
        current: Any = greenlet.getcurrent()
        while True:
            while found is not None:
                stage = STAGES.get(found.f_code.co_qualname)
                if stage is not None:
                    self.counts[stage] += 1
                    return
                found = found.f_back
            # SQLAlchemy runs its sync work in a child greenlet, whose stack starts afresh:
            # carry on up the stack of the coroutine that spawned it.
            current = current.parent
            if current is None:
                break
            found = current.gr_frame
        self.counts[LOOP] += 1

    def table(self, messages: int) -> str:
        total = sum(self.counts.values())
        lines = ["| stage | calls per message | share |", "|---|---|---|"]
        for stage, calls in self.counts.most_common():
            lines.append(f"| {stage} | {calls / messages:,.0f} | {100 * calls / total:.0f}% |")
        return "\n".join(lines)
