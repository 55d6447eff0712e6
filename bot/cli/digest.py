"""`helpline digest [--dry-run]`: today's digest, printed or sent to the managers now."""

from __future__ import annotations

import argparse

from bot.conversation.helpline import Helpline
from bot.core.errors import HelplineError
from bot.delivery.build import send_due
from bot.domain.alerts import managers
from bot.domain.digest import build_digest, render_digest, send_digest


async def digest_command(services: Helpline, args: argparse.Namespace) -> int:
    """`helpline digest [--dry-run]`: print today's digest, or send it to the managers now."""

    await services.migrate()
    now = services.now()
    if args.dry_run:
        print(render_digest(await build_digest(services, now), services.settings).text)
        return 0
    async with services.sessions() as session:
        if not await managers(session):
            raise HelplineError(
                "no active manager: add one with `helpline staff add --role manager`"
            )
    if not await send_digest(services, now, force=True):
        raise HelplineError("no way to reach the managers: set HELPLINE_SMTP_URL")
    sent = await send_due(services, now)
    print(f"digest sent ({sent} message{'s' if sent != 1 else ''})")
    return 0 if sent else 1


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = commands.add_parser("digest", help="the manager's digest: print it, or send it now")
    p.add_argument("--dry-run", action="store_true", help="print today's digest, send nothing")
    p.set_defaults(run=digest_command)
