"""`helpline` with statement, transaction and pool counters: `python -m bench.sqlstats serve ...`.

Listens on SQLAlchemy's Engine and Pool classes (so on every engine the app makes), then runs the
`helpline` console script's entry point in this process; nothing in bot/ is imported by name.
SIGUSR1 writes a snapshot of the counters to $BENCH_SQLSTATS (JSON): the suite takes one before
and one after a measured run and reports the difference per request. Statement times are wall
time from cursor execute to its return, so they include waiting: for the event loop, for a
SQLite lock (the busy handler), for PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
from collections import defaultdict
from importlib.metadata import entry_points
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

statements: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
counters: dict[str, int] = defaultdict(int)


def normalise(statement: str) -> str:
    """One key per statement shape: literals and parameter lists collapsed."""
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\(\$\d+(?:::\w+)?(?:, \$\d+(?:::\w+)?)*\)", "(...)", text)
    text = re.sub(r"\((?:\?, )*\?\)", "(...)", text)
    return text[:160]


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    conn.info.setdefault("bench_started", []).append(time.perf_counter())


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    started = conn.info["bench_started"].pop()
    entry = statements[normalise(statement)]
    entry[0] += 1
    entry[1] += time.perf_counter() - started


def _count(name: str) -> Any:
    def listener(*args: Any) -> None:
        counters[name] += 1

    return listener


for _name in ("begin", "commit", "rollback"):
    event.listen(Engine, _name, _count(_name))
event.listen(Pool, "checkout", _count("checkout"))


def snapshot(*_args: Any) -> None:
    path = os.environ["BENCH_SQLSTATS"]
    data = {"counters": dict(counters), "statements": {k: v for k, v in statements.items()}}
    with open(path + ".tmp", "w", encoding="utf-8") as file:
        json.dump(data, file)
    os.replace(path + ".tmp", path)


def main() -> int:
    signal.signal(signal.SIGUSR1, snapshot)
    (script,) = entry_points(group="console_scripts", name="helpline")
    sys.argv = ["helpline", *sys.argv[1:]]
    return int(script.load()() or 0)


if __name__ == "__main__":
    sys.exit(main())
