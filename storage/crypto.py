"""Encryption at rest for the parent's words and numbers, and keyed hashes to find them again.

Fernet keys come from the environment, newest first (MultiFernet: read with any, write with the
first). Ciphertext is random, so equality look-ups go through a keyed HMAC-SHA256 in its own
indexed column. Configured once at start by the service (storage never reads bot/ settings).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Dialect,
    MetaData,
    Table,
    Text,
    inspect,
    select,
    update,
)
from sqlalchemy.types import TypeDecorator

# Every Fernet token starts with version byte 0x80 and a timestamp (a format, not a secret).
TOKEN_PREFIX = "gAAAAA"  # nosec B105


class KeysNotConfigured(RuntimeError):
    """The store was used before `configure` was called with the service's keys."""


class UnreadableValue(RuntimeError):
    """A stored value is not ciphertext any configured key can open."""


@dataclass(frozen=True)
class _Keys:
    fernet: MultiFernet
    lookup: bytes


_keys: _Keys | None = None


def configure(encryption_keys: Sequence[str], lookup_key: str | bytes) -> None:
    """Install the keys for this process: `encryption_keys` newest first, never empty."""
    global _keys
    keys = [k.strip() for k in encryption_keys if k.strip()]
    if not keys:
        raise ValueError("at least one Fernet key is needed")
    if not lookup_key:
        raise ValueError("a look-up key is needed")
    try:
        fernet = MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise ValueError(
            "HELPLINE_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes"
        ) from None
    lookup = lookup_key.encode() if isinstance(lookup_key, str) else lookup_key
    _keys = _Keys(fernet, lookup)


def is_configured() -> bool:
    return _keys is not None


def _current() -> _Keys:
    if _keys is None:
        raise KeysNotConfigured("encryption keys are not configured (storage.crypto.configure)")
    return _keys


def encrypt(plain: str) -> str:
    return _current().fernet.encrypt(plain.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return _current().fernet.decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeEncodeError):
        raise UnreadableValue(
            "a stored value cannot be decrypted with HELPLINE_ENCRYPTION_KEYS "
            "(a key removed too early, or a row written before encryption)"
        ) from None


def lookup_hash(value: str) -> str:
    """Keyed hash for equality look-ups (a phone number, a chat id): hex HMAC-SHA256."""
    return hmac.new(_current().lookup, value.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator[str]):
    """A string stored as a Fernet token; reads give the plain text back."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


class EncryptedJSON(TypeDecorator[Any]):
    """JSON stored as one Fernet token (a JSON string), so the column type stays JSON."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise UnreadableValue("a JSON column holds plain data where ciphertext belongs")
        return json.loads(decrypt(value))


# -- whole-table passes: the upgrade to encryption, and key rotation ----------------------------
@dataclass(frozen=True)
class Sealed:
    """One encrypted column, and the column holding its look-up hash (if any)."""

    table: str
    column: str
    json: bool = False
    hash_column: str | None = None


SEALED = (
    Sealed("contact", "address", hash_column="address_hash"),
    Sealed("conversation", "state", json=True),
    Sealed("inbox", "address", hash_column="address_hash"),
    Sealed("inbox", "payload", json=True),
    Sealed("inbox", "replies", json=True),
    Sealed("outbox", "address", hash_column="address_hash"),
    Sealed("outbox", "payload", json=True),
    Sealed("enquiry", "description"),
    Sealed("enquiry", "child_age"),
    Sealed("enquiry", "callback_phone", hash_column="callback_phone_hash"),
    Sealed("enquiry", "answers", json=True),
    Sealed("transcript", "text"),
    Sealed("call_attempt", "note"),
    Sealed("case_action", "note"),
    Sealed("case_note", "text"),
    Sealed("survey_response", "helped"),
    Sealed("voice_call", "caller", hash_column="caller_hash"),
    Sealed("voice_call", "state", json=True),
    Sealed("staff", "totp_secret"),
)


def _plain(raw: Any, sealed: Sealed) -> Any:
    """The plain value of a raw cell: ciphertext opened, or an unencrypted legacy value."""
    if raw is None:
        return None
    if isinstance(raw, str) and raw.startswith(TOKEN_PREFIX):
        try:
            text = decrypt(raw)
        except UnreadableValue:
            if sealed.json:
                raise
            return raw  # a legacy plain string that merely starts like a token
        return json.loads(text) if sealed.json else text
    if sealed.json and isinstance(raw, str):
        raise UnreadableValue(f"{sealed.table}.{sealed.column}: unreadable value")
    return raw


def _batches(connection: Connection, table: Table, batch: int) -> Iterator[list[Any]]:
    last = 0
    while True:
        rows = list(
            connection.execute(
                select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
            )
        )
        if not rows:
            return
        last = rows[-1].id
        yield rows


def _raw_table(name: str, columns: list[Sealed]) -> Table:
    cols: list[Column[Any]] = [Column("id")]
    for sealed in columns:
        cols.append(Column(sealed.column, JSON() if sealed.json else Text()))
        if sealed.hash_column:
            cols.append(Column(sealed.hash_column, Text()))
    return Table(name, MetaData(), *cols)


def reseal_all(connection: Connection, *, decrypt_only: bool = False, batch: int = 500) -> int:
    """Re-encrypt every sealed cell with the newest key and recompute every look-up hash.

    Legacy plain values (rows written before encryption) are encrypted too. With `decrypt_only`
    the cells are written back as plain text (the schema downgrade). Returns rows rewritten.
    """
    by_table: dict[str, list[Sealed]] = {}
    existing = inspect(connection)
    present = {name: {c["name"] for c in existing.get_columns(name)} for name in _tables()}
    for sealed in SEALED:
        if sealed.column in present[sealed.table]:  # an older schema (a migration) may lack it
            by_table.setdefault(sealed.table, []).append(sealed)
    rewritten = 0
    for name, columns in by_table.items():
        table = _raw_table(name, columns)
        for rows in _batches(connection, table, batch):
            for row in rows:
                values: dict[str, Any] = {}
                for sealed in columns:
                    plain = _plain(getattr(row, sealed.column), sealed)
                    if plain is None:
                        continue
                    if decrypt_only:
                        values[sealed.column] = plain
                        continue
                    text = json.dumps(plain, ensure_ascii=False) if sealed.json else plain
                    values[sealed.column] = encrypt(text)
                    if sealed.hash_column:
                        values[sealed.hash_column] = lookup_hash(plain)
                if values:
                    connection.execute(update(table).where(table.c.id == row.id).values(**values))
                    rewritten += 1
    return rewritten


def _tables() -> set[str]:
    return {s.table for s in SEALED}


def needs_keys(connection: Connection) -> bool:
    """Whether any sealed table holds rows (so an upgrade must encrypt them)."""
    for name in {s.table for s in SEALED}:
        table = Table(name, MetaData(), Column("id"))
        if connection.execute(select(table.c.id).limit(1)).first() is not None:
            return True
    return False
