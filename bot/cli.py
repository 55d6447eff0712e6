"""`helpline`: the operator's commands; bad input gets a readable error and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence

from bot.config import SettingsError, load_settings
from bot.i18n import CatalogMissing
from bot.services import Services, build_services

Handler = Callable[[Services, argparse.Namespace], Awaitable[int]]


class CommandError(Exception):
    """A readable reason a command cannot do what it was asked."""


async def _with_services(handler: Handler, args: argparse.Namespace) -> int:
    services = build_services(load_settings())
    try:
        return await handler(services, args)
    finally:
        await services.close()


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.app import create_app

    settings = load_settings()
    app = create_app(settings, scheduler=not args.no_scheduler)
    for line in channel_status(settings):
        print(line)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    return 0


def channel_status(settings: object) -> list[str]:
    from bot.config import Settings

    assert isinstance(settings, Settings)
    lines = ["web chat: on at /chat"]
    lines.append(
        "telegram: on at /telegram/webhook"
        if settings.telegram_enabled
        else "telegram: off (set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET)"
    )
    lines.append(
        "sms/whatsapp/voice: on at /twilio/sms and /twilio/voice"
        if settings.twilio_enabled
        else "sms/whatsapp/voice: off (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN)"
    )
    lines.append("email: on" if settings.smtp_url else "email: off (set HELPLINE_SMTP_URL)")
    return lines


async def chat(services: Services, args: argparse.Namespace) -> int:
    from bot.channels import console

    await services.migrate()
    await console.run(services, args.language)
    return 0


async def db_upgrade(services: Services, args: argparse.Namespace) -> int:
    await services.migrate()
    print("database is up to date")
    return 0


async def queue(services: Services, args: argparse.Namespace) -> int:
    from bot.callbacks import open_queue

    async with services.sessions() as session:
        rows = await open_queue(session, include_closed=args.all)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no open callbacks")
    for row in rows:
        flag = "URGENT " if row["urgent"] else ""
        print(
            f"{flag}{row['reference']}  due {row['due_at']}  {row['channel']:<8} "
            f"{row['language']:<7} {row['topic'] or '-':<20} {row['assigned_to'] or 'unassigned'}"
        )
    return 0


def _lazy(module: str, name: str) -> Handler:
    """A handler imported only when its command runs (keeps `helpline --help` fast)."""

    async def run(services: Services, args: argparse.Namespace) -> int:
        import importlib

        handler: Handler = getattr(importlib.import_module(module), name)
        return await handler(services, args)

    return run


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="helpline", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the web app (webhooks, web chat, dashboard)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler here")
    p.set_defaults(sync=serve)

    p = commands.add_parser("chat", help="the parent's intake in this terminal")
    p.add_argument("--language", default=None, help="BCP 47 code, e.g. cy or pl")
    p.set_defaults(run=chat)

    p = commands.add_parser("db", help="database schema")
    db = p.add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(run=db_upgrade)

    p = commands.add_parser("queue", help="open callbacks in due order")
    p.add_argument("--json", action="store_true")
    p.add_argument("--all", action="store_true", help="include closed callbacks")
    p.set_defaults(run=queue)

    p = commands.add_parser("telegram", help="the Telegram bot")
    tg = p.add_subparsers(dest="telegram_command", required=True)
    tg.add_parser("set-webhook", help="register {public_url}/telegram/webhook").set_defaults(
        run=_lazy("bot.channels.telegram", "set_webhook")
    )

    from bot.reports.cli import register as register_reports

    register_reports(commands)
    from bot import digest, rota, scheduler, staff

    for module in (staff, rota, scheduler, digest):
        module.register(commands)
    from bot import keys, protection

    keys.register(commands)
    protection.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.INFO if args.command in {"serve", "scheduler"} else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # APScheduler reports every run of every job at INFO: four lines a minute of nothing.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        if getattr(args, "sync", None):
            return int(args.sync(args))
        return asyncio.run(_with_services(args.run, args))
    except (SettingsError, CommandError, CatalogMissing) as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run the imported module's main, so `python -m bot.cli` shares one CommandError class
    # with the command modules (they import bot.cli, not __main__).
    from bot.cli import main as imported_main

    sys.exit(imported_main())
