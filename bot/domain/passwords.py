"""Staff passwords: argon2id hashes, shared by the CLI (`staff add`) and the dashboard login."""

from __future__ import annotations

from collections.abc import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn's "safely unguessable" (its bundled lists of common passwords and words)
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked when the email is unknown, so an unknown account takes as long as a wrong password.
DUMMY_HASH = _hasher.hash("not a password anyone has")


class WeakPassword(ValueError):
    """The password is too short to protect records about children."""


def check_strength(password: str, about: Iterable[str] = ()) -> None:
    """At least MIN_LENGTH characters and not guessable from common passwords, words, keyboard
    patterns or the person's own details (`about`: their email and name)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"the password must be at least {MIN_LENGTH} characters")
    words = [part for item in about for part in item.replace("@", " ").replace(".", " ").split()]
    verdict = zxcvbn(password[:100], user_inputs=words)  # its cost grows with the length
    if verdict["score"] < MIN_SCORE:
        hint = verdict["feedback"].get("warning") or "it is too easy to guess"
        raise WeakPassword(f"choose a less guessable password ({hint.rstrip('.').lower()})")


def hash_password(password: str) -> str:
    """An argon2id hash (salted, parameters embedded) to store in Staff.password_hash."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing or corrupt hash never matches (and takes as
    long to say so as a wrong password does)."""
    try:  # a missing hash is checked against the dummy, so it takes the same time
        return _hasher.verify(password_hash or DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at next login."""
    return _hasher.check_needs_rehash(password_hash)
