"""`helpline`: the operator's commands; bad input gets a readable error and a non-zero exit."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.channels import console
from bot.cli import (
    backup,
    digest,
    doctor,
    keys,
    protection,
    reports,
    rota,
    scheduler,
    serving,
    staff,
    telegram,
)
from bot.cli.database import require_schema, revision_now, where
from bot.conversation.helpline import Helpline
from bot.core import logs
from bot.core.errors import HelplineError
from bot.core.i18n import CatalogMissing
from bot.core.keys import check_lookup_key, local_key_notice
from bot.core.settings import Settings, SettingsError, load_settings
from bot.domain.callbacks import open_queue
from bot.jobs.scheduler import SchedulerRunner
from bot.web.app import create_app
from bot.wiring import build_services
from flows.intake import TOPICS

Handler = Callable[[Helpline, argparse.Namespace], Awaitable[int]]
CommandError = HelplineError  # what the command modules raise: one class, shown in one line
SENDER_ELSEWHERE = (
    "outbox: not sent by this process (--no-sender): run `helpline scheduler`, which sends"
)
TOPIC_WORDS = {choice.value: str(choice.label) for choice in TOPICS}  # English, as officers read


async def _with_services(handler: Handler, args: argparse.Namespace) -> int:
    settings = load_settings()
    if handler not in MAKES_SCHEMA | NO_DATABASE:
        await require_schema(settings)  # before any key file or empty database is made
    services = build_services(settings)
    try:
        if args.command not in {"keys", "db", "chat"}:  # rotate re-hashes; the others migrate
            await check_lookup_key(services.sessions, services.now())
        return await handler(services, args)
    finally:
        await services.close()


def serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    doctor.refuse_examples(settings)  # no example safety numbers given to parents
    if args.workers > 1:
        return _serve_workers(args)
    # Bound before the app starts, so a taken port is said in one line and nothing migrates.
    sockets = [serving.listening_socket(args.host, args.port, shared=args.reuse_port)]
    if args.own_port:
        sockets.append(serving.listening_socket(args.host, args.own_port, shared=False))
    # Migrated before the app starts, so a migration lock not had in time is said in one line.
    try:
        asyncio.run(_migrate(settings))
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    # The scheduler stands by when another process leads, so every serve may offer to run it.
    background = [] if args.no_scheduler else [SchedulerRunner]
    app = create_app(settings, migrate=False, background=background, send=not args.no_sender)
    for line in channel_status(settings):
        print(line)
    if args.no_sender:
        print(SENDER_ELSEWHERE)
    for line in serve_warnings(settings):
        print(f"warning: {line}", file=sys.stderr)
    # log_config=None (in serve_on): uvicorn's lines go through our redacting handler.
    return serving.serve_on(
        app,
        sockets,
        server_header=False,
        # Behind a reverse proxy, the client is the one it forwards (throttling, audit).
        proxy_headers=bool(args.forwarded_allow_ips),
        forwarded_allow_ips=args.forwarded_allow_ips or None,
    )


async def _migrate(settings: Settings) -> None:
    services = build_services(settings)
    try:
        await services.migrate()
    finally:
        await services.close()


def _serve_workers(args: argparse.Namespace) -> int:
    """`--workers N`: N `serve --reuse-port` processes, each started again if it dies."""
    serving.listening_socket(args.host, args.port, shared=True).close()  # a taken port, once
    asyncio.run(_migrate(load_settings()))  # once, so a failure is said once, not N times
    options = worker_options(args)
    commands = [
        serving.worker_argv(options, args.own_port + n if args.own_port else None)
        for n in range(args.workers)
    ]
    return serving.Workers(commands).run()


def worker_options(args: argparse.Namespace) -> list[str]:
    """What each worker of `--workers N` is given: the options as typed, nothing implied
    (`--no-scheduler` does not mean `--no-sender`: without a scheduler, nothing would send)."""
    options = ["--host", args.host, "--port", str(args.port)]
    if args.no_scheduler:
        options.append("--no-scheduler")
    if args.no_sender:
        options.append("--no-sender")
    if args.forwarded_allow_ips:
        options += ["--forwarded-allow-ips", args.forwarded_allow_ips]
    return options


def channel_status(settings: Settings) -> list[str]:
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


def serve_warnings(settings: Settings) -> list[str]:
    """Said once, when the service starts: what an operator must fix before going live."""
    found = []
    notice = local_key_notice(settings)
    if notice:
        found.append(notice)
    placeholders = [
        name
        for name in ("children_services_phone", "out_of_hours_phone", "service_phone")
        if getattr(settings, name) == getattr(Settings(), name)
    ]
    if placeholders:
        found.append(
            f"still the example numbers: {', '.join(placeholders)}; parents (some at risk) are "
            "given these, so set them in the TOML file (HELPLINE_CONFIG) before going live"
        )
    if not settings.public_url.startswith("https://"):
        found.append(
            f"HELPLINE_PUBLIC_URL is {settings.public_url}, not https: the links in digests and "
            "alerts only work where that address does, and webhooks need https"
        )
    return found


async def chat(services: Helpline, args: argparse.Namespace) -> int:
    await services.migrate()
    await console.run(services, args.language)
    return 0


async def db_upgrade(services: Helpline, args: argparse.Namespace) -> int:
    """Migrate, and say what happened: created, upgraded, or already at this version."""
    before = await revision_now(services.settings)
    await services.migrate()
    after = await revision_now(services.settings)
    place = where(services.settings)
    if before is None:
        print(f"database created: {place}, schema {after}")
    elif before != after:
        print(f"database upgraded: {place}, schema {before} -> {after}")
    else:
        print(f"database is up to date: {place}, schema {after}")
    return 0


async def queue(services: Helpline, args: argparse.Namespace) -> int:
    async with services.sessions() as session:
        rows = await open_queue(session, include_closed=args.all)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no open callbacks")
    zone = ZoneInfo(services.settings.timezone)
    for row in rows:
        flag = "URGENT " if row["urgent"] else ""
        due = datetime.fromisoformat(row["due_at"]).astimezone(zone)
        topic = TOPIC_WORDS.get(row["topic"] or "", row["topic"] or "-")
        print(
            f"{flag}{row['reference']}  due {due:%a %d %b %H:%M}  {row['channel']:<8} "
            f"{row['language']:<7} {topic:<30} {row['assigned_to'] or 'unassigned'}"
        )
    return 0


# Every other command needs the schema as it is, and refuses a missing or empty database.
MAKES_SCHEMA: set[Handler] = {db_upgrade, chat, scheduler.run_alone}  # migrate, like serve
# doctor reports a missing or old schema among its checks instead of refusing to run.
NO_DATABASE: set[Handler] = {telegram.set_webhook, doctor.doctor}


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers from 1 to 64")
    return int(text)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="helpline", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the web app (webhooks, web chat, dashboard)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler here")
    p.add_argument(
        "--no-sender",
        action="store_true",
        help="do not send the outbox here: `helpline scheduler` sends (woken by NOTIFY on "
        "PostgreSQL); replies in TwiML are answered here as always",
    )
    p.add_argument(
        "--reuse-port",
        action="store_true",
        help="share --port with other serve processes started so (SO_REUSEPORT)",
    )
    p.add_argument(
        "--own-port",
        type=int,
        metavar="PORT",
        help="also listen on this port alone: this process's /metrics and /healthz",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="run N such processes on --port (own ports P, P+1, ...), each restarted if it dies",
    )
    p.add_argument(
        "--forwarded-allow-ips",
        metavar="ADDRESSES",
        default="",
        help="comma-separated addresses of your reverse proxy, whose X-Forwarded-For is trusted",
    )
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
        run=telegram.set_webhook
    )
    for module in (reports, staff, rota, scheduler, digest, keys, protection, backup, doctor):
        module.register(commands)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.INFO if args.command in {"serve", "scheduler"} else logging.WARNING
    try:
        logs.configure(load_settings(), level)
        if getattr(args, "sync", None):
            return int(args.sync(args))
        return asyncio.run(_with_services(args.run, args))
    except (SettingsError, HelplineError, CatalogMissing) as exc:
        print(f"helpline: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
