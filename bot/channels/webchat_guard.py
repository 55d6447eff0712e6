"""The web chat's guards: server-signed chat tokens, message limits, and strict browser headers.

The cookie holds a random value signed by the server, so a script cannot invent conversations;
the store never sees that value, only a keyed hash of it (a backup cannot be replayed against
/chat/history). Each address and each chat may send only so many messages a minute.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, Signer

from storage.crypto import lookup_hash

SALT = "helpline-web-chat"
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
PER_TOKEN = 60  # a minute from one chat: above what a person types; the flood guard answers first
PER_ADDRESS = 120  # from one network address: a school or library shares one
WINDOW = timedelta(minutes=1)
MAX_KEYS = 50_000  # beyond this, expired counters are swept


class ChatTokens:
    """Issue and check the signed chat cookie; derive the address the store keeps."""

    def __init__(self, secret: str) -> None:
        self.signer = Signer(secret, salt=SALT)

    def issue(self) -> str:
        return self.signer.sign(secrets.token_urlsafe(24)).decode()

    def check(self, value: str | None) -> str | None:
        """The token inside a genuine cookie, or None for a missing, forged or mangled one."""
        if not value or len(value) > 128:
            return None
        try:
            return self.signer.unsign(value).decode()
        except (BadSignature, UnicodeDecodeError):
            return None


def chat_address(token: str) -> str:
    """What the store keeps for a chat: a keyed hash of its token, never the token itself."""
    return lookup_hash("webchat:" + token)


@dataclass
class Limits:
    """Fixed one-minute windows per chat and per address, in this process's memory.

    Only messages taken in count: a parent retrying while the store is away is not held back.
    """

    per_token: int = PER_TOKEN
    per_address: int = PER_ADDRESS
    counters: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    def allow(self, token: str, address: str, now: datetime) -> bool:
        return self._used("t:" + token, now) < self.per_token and (
            self._used("a:" + address, now) < self.per_address
        )

    def taken(self, token: str, address: str, now: datetime) -> None:
        if len(self.counters) > MAX_KEYS:
            self.counters = {k: v for k, v in self.counters.items() if now - v[0] < WINDOW}
        for key in ("t:" + token, "a:" + address):
            start, count = self.counters.get(key, (now, 0))
            if now - start >= WINDOW:
                start, count = now, 0
            self.counters[key] = (start, count + 1)

    def _used(self, key: str, now: datetime) -> int:
        start, count = self.counters.get(key, (now, 0))
        return 0 if now - start >= WINDOW else count
