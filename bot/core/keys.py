"""The encryption and look-up keys: from the environment, or a local key file for SQLite.

PostgreSQL is a real deployment, so it refuses to start without HELPLINE_ENCRYPTION_KEYS and
a look-up key. The embedded SQLite default (`make run`) generates a key file beside the
database, so a first run just works; that file must be backed up with the database.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import sys
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.settings import Settings, SettingsError
from storage import crypto
from storage.models import Contact, KeyCheck

log = logging.getLogger(__name__)


def key_file(settings: Settings) -> Path | None:
    """`helpline.db.keys` beside a SQLite file; None for PostgreSQL or an in-memory database."""
    if not settings.is_sqlite:
        return None
    path = settings.database_url.split(":///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path + ".keys")


def _local_keys(path: Path | None) -> dict[str, object]:
    if path is not None and path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data)
    data = {
        "encryption_keys": [Fernet.generate_key().decode()],
        "lookup_key": secrets.token_urlsafe(32),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
    return data


def local_key_notice(settings: Settings) -> str | None:
    """What `serve` says once when the keys come from the local file (SQLite without keys set)."""
    if settings.encryption_keys or not settings.is_sqlite:
        return None
    return (
        f"HELPLINE_ENCRYPTION_KEYS is not set: the data is encrypted with the local key file "
        f"{key_file(settings)}; back it up with the database (lose it and the data is lost)"
    )


def configure_keys(settings: Settings) -> None:
    """Install this process's keys in storage.crypto (once, at start).

    The look-up key is its own key, never the session secret: changing HELPLINE_SECRET_KEY
    (signing out everyone) must not make every phone-number look-up silently miss."""
    keys = list(settings.encryption_keys)
    lookup = settings.lookup_key
    if not keys or not lookup:
        if not settings.is_sqlite:
            missing = "HELPLINE_ENCRYPTION_KEYS" if not keys else "HELPLINE_LOOKUP_KEY"
            raise SettingsError(
                f"{missing} must be set with PostgreSQL (see docs/data-protection.md)"
            )
        path = key_file(settings)
        local = _local_keys(path)
        if not keys:
            keys = [str(k) for k in local["encryption_keys"]]  # type: ignore[attr-defined]
        lookup = lookup or str(local["lookup_key"])
    try:
        crypto.configure(keys, lookup)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


_EPHEMERAL: list[str] = []


def session_secret(settings: Settings) -> str:
    """HELPLINE_SECRET_KEY (signs staff sessions and web-chat tokens), or refuse to start;
    tests and `make run` get a throwaway key."""
    if settings.secret_key:
        return settings.secret_key
    if "pytest" in sys.modules:
        return secrets.token_urlsafe(32)
    if os.environ.get("HELPLINE_EPHEMERAL_SECRET") == "1":
        if not _EPHEMERAL:  # one throwaway key (and one warning) for the whole process
            log.warning(
                "HELPLINE_SECRET_KEY is not set: using a throwaway key, so staff sign-ins and "
                "web chats end when the service restarts. Set it before real use."
            )
            _EPHEMERAL.append(secrets.token_urlsafe(32))
        return _EPHEMERAL[0]
    raise SettingsError(
        "HELPLINE_SECRET_KEY is not set: the staff dashboard and the web chat will not start "
        "without it (for a local trial only, set HELPLINE_EPHEMERAL_SECRET=1)"
    )


CHECK = "lookup_key"
CHECK_TEXT = "helpline look-up key check"
MISMATCH = (
    "HELPLINE_LOOKUP_KEY is not the key this store's look-ups were made with, so searches and "
    "subject access by phone would find nothing. Restore the previous key (older releases used "
    "HELPLINE_SECRET_KEY when it was unset), or re-hash the store with `helpline keys rotate`."
)


async def check_lookup_key(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    """Refuse to go on with a look-up key other than the one the store was hashed with.

    The store keeps a check value made with the key; a store from before it has one is checked
    against a contact whose address decrypts (its hash must be the key's hash of it)."""
    try:
        try:
            await _check(sessions, now)
        except IntegrityError:  # a process started beside this one recorded it first
            await _check(sessions, now)  # now compared with theirs
    except (OperationalError, ProgrammingError) as exc:
        if "key_check" not in str(exc):
            raise
        # A store not yet upgraded has nowhere to keep the value: `db upgrade` checks it.


async def _check(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with sessions.begin() as session:
        stored = await session.get(KeyCheck, CHECK)
        value = crypto.lookup_hash(CHECK_TEXT)
        if stored is not None:
            if not hmac.compare_digest(stored.value, value):
                raise SettingsError(MISMATCH)
            return
        contact = await session.scalar(
            select(Contact).where(Contact.address_hash.is_not(None)).limit(1)
        )
        if contact is not None and contact.address_hash != crypto.lookup_hash(contact.address):
            raise SettingsError(MISMATCH)
        session.add(KeyCheck(name=CHECK, value=value, set_at=now))


async def record_lookup_key(session: AsyncSession, now: datetime) -> None:
    """After `keys rotate` re-hashed the store: the check value follows the new key."""
    stored = await session.get(KeyCheck, CHECK)
    if stored is None:
        session.add(KeyCheck(name=CHECK, value=crypto.lookup_hash(CHECK_TEXT), set_at=now))
    else:
        stored.value, stored.set_at = crypto.lookup_hash(CHECK_TEXT), now
