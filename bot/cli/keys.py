"""`helpline keys rotate`: a new encryption key, old rows re-encrypted under it."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.core.keys import record_lookup_key
from storage import crypto

if TYPE_CHECKING:
    from bot.conversation.helpline import Helpline


async def rotate(services: Helpline, args: argparse.Namespace) -> int:
    """`helpline keys rotate`: re-encrypt every row with the newest key, re-hash every look-up."""
    async with services.engine.begin() as connection:
        rows = await connection.run_sync(lambda sync: crypto.reseal_all(sync))
    async with services.sessions.begin() as session:
        await record_lookup_key(session, services.now())  # the check follows the new key
    print(f"re-encrypted {rows} rows with the newest key; older keys may now be removed")
    return 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("keys", help="encryption keys")
    sub = p.add_subparsers(dest="keys_command", required=True)
    sub.add_parser(
        "rotate", help="re-encrypt every row with the newest HELPLINE_ENCRYPTION_KEYS key"
    ).set_defaults(run=rotate)
