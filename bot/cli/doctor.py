"""`helpline doctor`: is this deployment fit to give parents numbers and keep their records?

Lists every setting still at its shipped example, then the deployment checks (public URL,
secrets, keys, migrations, webhooks); exits 1 when anything must be fixed. `serve` refuses to
start while the safety numbers are examples, except in a local trial (`make run`).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from telegram import Bot
from telegram.error import TelegramError

from bot.cli.database import schema_revision
from bot.conversation.helpline import Helpline
from bot.core.keys import key_file
from bot.core.settings import (
    EXAMPLE_VALUES,
    SAFETY_NUMBERS,
    Settings,
    SettingsError,
    still_examples,
)
from storage import crypto
from storage.db import alembic_config
from storage.models import Contact

MIN_SECRET = 32


@dataclass(frozen=True)
class Finding:
    ok: bool
    text: str
    serious: bool = True  # a failed serious check makes the exit code non-zero


def refuse_examples(settings: Settings) -> None:
    """For `serve`: no safety numbers that are examples, unless this is a local trial, where
    every page carries a banner instead."""
    names = still_examples(settings, SAFETY_NUMBERS)
    if names and os.environ.get("HELPLINE_EPHEMERAL_SECRET") != "1":
        raise SettingsError(
            f"refusing to start: {', '.join(names)} still set to the shipped examples "
            "(parents at risk would be given a number that rings nobody). Set them in "
            "helpline.toml (HELPLINE_CONFIG); `helpline doctor` lists every check."
        )


def settings_findings(settings: Settings) -> list[Finding]:
    found = [
        Finding(False, f"{name} is still the example {EXAMPLE_VALUES[name]!r}: set a real number")
        for name in still_examples(settings)
    ]
    if not found:
        found.append(Finding(True, "safety numbers and the service's number are set"))
    if settings.public_url.startswith("https://"):
        found.append(Finding(True, f"public URL is https ({settings.public_url})"))
    else:
        found.append(Finding(False, f"HELPLINE_PUBLIC_URL is not https: {settings.public_url}"))
    if len(settings.secret_key) >= MIN_SECRET:
        found.append(Finding(True, "HELPLINE_SECRET_KEY is set"))
    else:
        found.append(Finding(False, f"HELPLINE_SECRET_KEY is unset or under {MIN_SECRET} chars"))
    if settings.encryption_keys and settings.lookup_key:
        found.append(Finding(True, "HELPLINE_ENCRYPTION_KEYS and HELPLINE_LOOKUP_KEY are set"))
    else:
        path = key_file(settings)
        where = f"the key file {path}" if path else "nothing"
        found.append(Finding(False, f"encryption keys not in the environment: using {where}"))
    channels = {"telegram": settings.telegram_enabled, "twilio": settings.twilio_enabled}
    for name, on in channels.items():
        found.append(Finding(True, f"{name}: {'on' if on else 'off (no secrets)'}", False))
    if settings.smtp_url and settings.mail_from.endswith("@localhost"):
        found.append(Finding(False, f"HELPLINE_MAIL_FROM is {settings.mail_from}"))
    return found


async def store_findings(services: Helpline) -> list[Finding]:
    """Migrations current, then whether the keys open what is stored."""
    config = alembic_config(services.settings.database_url)
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        async with services.engine.connect() as connection:
            current = await connection.run_sync(schema_revision)
    except SQLAlchemyError as exc:
        return [Finding(False, f"database unreachable: {type(exc).__name__}")]
    if current != head:
        return [
            Finding(False, f"migrations behind: at {current}, head {head} (helpline db upgrade)")
        ]
    try:
        async with services.sessions() as session:
            address = await session.scalar(select(Contact.address).limit(1))
    except crypto.UnreadableValue:
        return [Finding(False, "the encryption keys cannot open the stored data")]
    keys = "keys open the stored data" if address else "keys: nothing stored yet to open"
    return [Finding(True, f"migrations current ({head})"), Finding(True, keys)]


async def webhook_findings(settings: Settings) -> list[Finding]:
    """Telegram can tell us where it posts; Twilio's numbers are set in its console."""
    if not settings.telegram_enabled:
        return []
    wanted = settings.public_url.rstrip("/") + "/telegram/webhook"
    try:
        async with Bot(settings.telegram_bot_token, base_url=settings.telegram_api_base_url) as bot:
            info = await bot.get_webhook_info()
    except TelegramError as exc:
        reason = exc.message.replace(settings.telegram_bot_token, "<token>")
        return [Finding(False, f"telegram webhook: cannot ask Telegram ({reason})")]
    if info.url == wanted:
        return [Finding(True, f"telegram webhook registered at {wanted}")]
    shown = info.url or "nothing"
    return [Finding(False, f"telegram webhook is {shown}, not {wanted} (telegram set-webhook)")]


async def doctor(services: Helpline, args: argparse.Namespace) -> int:
    findings = [
        *settings_findings(services.settings),
        *await store_findings(services),
        *await webhook_findings(services.settings),
    ]
    if services.settings.twilio_enabled:
        findings.append(
            Finding(True, "twilio webhooks: cannot tell from here; check the number's URLs", False)
        )
    for finding in findings:
        print(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.text}")
    failed = [f for f in findings if f.serious and not f.ok]
    print(f"{len(failed)} thing(s) to fix" if failed else "ready for service")
    return 1 if failed else 0


def register(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    commands.add_parser(
        "doctor", help="list settings that still need a real value and the deployment checks"
    ).set_defaults(run=doctor)
