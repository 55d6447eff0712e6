"""The encryption and look-up keys: from the environment, or a local key file for SQLite.

PostgreSQL is a real deployment, so it refuses to start without HELPLINE_ENCRYPTION_KEYS and
a look-up key. The embedded SQLite default (`make run`) generates a key file beside the
database, so a first run just works; that file must be backed up with the database.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet

from bot.core.settings import Settings, SettingsError
from storage import crypto

if TYPE_CHECKING:
    pass


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
    """Install this process's keys in storage.crypto (once, at start)."""
    keys = list(settings.encryption_keys)
    lookup = settings.lookup_key or settings.secret_key
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
