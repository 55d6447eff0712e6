"""`helpline scheduler`: the SLA sweep, queues and digest in a process of their own, with an
outbox worker: what the jobs queue is sent, and so is what `helpline serve --no-sender` workers
queue (on PostgreSQL their NOTIFY wakes it at once; otherwise its one-second poll)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING

from bot.conversation.helpline import Helpline
from bot.delivery.build import build_worker

if TYPE_CHECKING:
    pass
from bot.jobs.scheduler import SchedulerRunner

log = logging.getLogger(__name__)


async def run_alone(services: Helpline, args: argparse.Namespace) -> int:
    """`helpline scheduler`: the jobs without the web app, until SIGINT or SIGTERM."""
    await services.migrate()
    runner = SchedulerRunner(services)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, runner._stop.set)
    log.info("scheduler: standing by for the leader lock")
    worker = build_worker(services)  # the jobs' messages, and the --no-sender workers'
    sending = asyncio.create_task(worker.run(), name="outbox-worker")
    try:
        await runner.run()
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
        await worker.close()
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("scheduler", help="run the SLA sweep, queues and digest alone")
    p.set_defaults(run=run_alone)
