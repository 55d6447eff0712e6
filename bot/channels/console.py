"""`helpline chat`: the intake in a terminal, through the same router as every other channel."""

from __future__ import annotations

import getpass
import sys
import uuid
from typing import TextIO

from bot.conversation.helpline import Helpline
from bot.conversation.router import Inbound


async def run(
    services: Helpline,
    language: str | None = None,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
) -> None:
    """Read lines until end of input; each is one message from the parent."""
    address = f"{getpass.getuser()}-{uuid.uuid4().hex[:8]}"

    async def say(text: str) -> None:
        inbound = Inbound(
            channel="console",
            address=address,
            provider_id=uuid.uuid4().hex,
            text=text,
            received_at=services.now(),
            language_hint=language,
        )
        for reply in await services.router.deliver(inbound):
            stdout.write(reply.numbered() + "\n\n")
        stdout.flush()

    await say("")
    while True:
        stdout.write("> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n")
            return
        await say(line.rstrip("\n"))
