"""Staff passwords: argon2id hashes, shared by the CLI (`staff add`) and the dashboard login."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class WeakPassword(ValueError):
    """The password is too short to protect records about children."""


def check_strength(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters")


def hash_password(password: str) -> str:
    """An argon2id hash (salted, parameters embedded) to store in Staff.password_hash."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or corrupt hash never matches."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at next login."""
    return _hasher.check_needs_rehash(password_hash)
