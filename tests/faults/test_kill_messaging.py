"""SMS and Telegram parents run whole intakes at once while `helpline serve` is SIGKILLed again
and again and restarted on the same database; every request is retried unchanged until 200.
Every reply is compared with a fault-free run of the same script: none lost (an SMS retry gets
the replies its first delivery produced; a Telegram row stranded `sending` goes out after its
lease), one enquiry with one callback per parent, and Telegram messages doubled only by a kill
between Telegram's acceptance and the row's mark.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.faults.messaging import Fault, run_parents
from tests.faults.verdict import Outcome, compare

KILLS = 8  # with this seed and pace, enough to land in both windows on the old code
_reference: list[Outcome] = []


async def _fault_free(sqlite_template: Path, tmp_path: Path) -> list[Outcome]:
    """The reference run, once per session on a fresh SQLite store (replies do not depend on
    the database)."""
    if not _reference:
        workdir = tmp_path / "reference"
        workdir.mkdir()
        shutil.copy(sqlite_template, workdir / "helpline.db")
        url = f"sqlite+aiosqlite:///{workdir / 'helpline.db'}"
        _reference.extend(await run_parents(url, workdir))
    return _reference


async def test_sigkill_loses_no_sms_or_telegram_reply(
    db_url: str, tmp_path: Path, sqlite_template: Path
) -> None:
    reference = await _fault_free(sqlite_template, tmp_path)
    fault = Fault(KILLS, seed=21, interval=(0.3, 1.5))
    seen = await run_parents(db_url, tmp_path, reference=reference, fault=fault, give_up=900)
    tally = compare(reference, seen)
    print(f"\n{fault.done} kills: {tally}")
    assert fault.done == KILLS, "the parents finished before every kill landed"
    assert tally.problems == []
    assert tally.lost == 0
    assert tally.doubled <= fault.done, "a kill doubles at most the one row in hand"
    assert tally.acknowledged == sum(len(o.replies) for o in reference)
