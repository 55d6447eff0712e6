"""The outbox's bell on PostgreSQL: LISTEN for the NOTIFY that a non-sending process issues as
it enqueues (storage/outbox.py `announce_enqueues`), and wake the sender at once.

The sender polls every second anyway, so a lost notification (the listening connection dropped,
PostgreSQL restarted) costs at most that second; the bell reconnects and rings once on each
connect, for whatever was enqueued while it was away. It listens on a connection of its own,
never a pooled one: a LISTEN belongs to the session that issued it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from storage.outbox import NOTIFY_CHANNEL

log = logging.getLogger(__name__)

CHECK_EVERY = 30.0  # seconds between checks that the listening connection still answers
APPLICATION_NAME = "helpline outbox bell"  # what pg_stat_activity shows for its connection
RETRY_FIRST, RETRY_MOST = 1.0, 30.0  # back-off between reconnects


class PostgresBell:
    """`ring(wake)` until cancelled: `wake()` on every notification on `helpline_outbox`."""

    def __init__(self, database_url: str) -> None:
        self.dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.connects = 0  # for tests and the operator's log: how often it (re)connected

    async def ring(self, wake: Callable[[], None]) -> None:
        import asyncpg  # only a PostgreSQL deployment needs the driver loaded

        pause = RETRY_FIRST
        while True:
            connection: Any = None
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=10, server_settings={"application_name": APPLICATION_NAME}
                )
                closed = asyncio.Event()
                connection.add_termination_listener(lambda *_, c=closed: c.set())
                await connection.add_listener(NOTIFY_CHANNEL, lambda *_: wake())
                self.connects += 1
                pause = RETRY_FIRST
                wake()  # anything enqueued while no one listened
                while not (closed.is_set() or connection.is_closed()):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(closed.wait(), CHECK_EVERY)
                        continue
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=10)
                log.warning("outbox bell: the listening connection closed; reconnecting")
            except Exception as exc:  # whatever the driver raises: poll, and connect again
                log.warning("outbox bell: no listening connection (%s); polling meanwhile",
                            type(exc).__name__)  # fmt: skip
            finally:
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await connection.close(timeout=5)
            await asyncio.sleep(pause)
            pause = min(pause * 2, RETRY_MOST)
