"""What the bot says when a child may be at risk, and how it reads the safe number asked for.

Pure: the conversation layer decides when; this module holds the words and reads the reply,
so the same texts serve every step and every channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows import validators
from flows.engine import N_, Engine, Invalid, Step

SAFETY_NUMBERS = N_(
    "If a child is in danger now, call 999. Children's services: {children_services} "
    "(out of hours: {out_of_hours}). NSPCC: 0808 800 5000. Childline: 0800 1111."
)
# Which one is true is decided by the working-day clock at the moment of the reply.
OFFICE_OPEN = N_("Our office is open now: an officer can call you straight away, within the hour.")
OFFICE_CLOSED = N_("Our office is closed now. An officer can call you by {time} on {date}.")
ASK_PHONE = N_("Can we call you? Type your number, or 'no'.")
ASK_KNOWN_PHONE = N_("Can we call you on {known_phone}? Reply yes, type a safer number, or 'no'.")
ASK_AGAIN = N_("Please type a phone number we can call you on, or 'no'.")
WILL_CALL = N_("Thank you. An officer will call you on {safe_phone}.")
WILL_NOT_CALL = N_(
    "All right, we will not call you. You can call us on {phone}, {hours}. "
    "If a child is in danger now, call 999."
)
# Stop or no consent after a concern: honest that the concern itself is kept (never secrecy).
KEPT_FOR_SAFETY = N_(
    "We have stopped. Because a child may be at risk, we keep what you told us about that, "
    "and an officer may still contact you. If a child is in danger now, call 999."
)

_YESNO = Step("safe_phone", "", kind="yesno")


@dataclass(frozen=True)
class SafeNumber:
    """The parent's answer to "Can we call you?": a number, a plain no, or not understood."""

    phone: str | None = None
    declined: bool = False

    @property
    def understood(self) -> bool:
        return self.declined or self.phone is not None


def read_safe_number(engines: list[Engine], text: str, known_phone: str | None) -> SafeNumber:
    """A typed number (any format), yes for the number they wrote from, or no in any of the
    conversation's languages; anything else is not understood (the question is asked again)."""
    typed = validators.phone(text)
    if not isinstance(typed, Invalid):
        return SafeNumber(phone=typed)
    for engine in engines:
        answer = engine.parse(_YESNO, text)
        if answer is False:
            return SafeNumber(declined=True)
        if answer is True and known_phone:
            return SafeNumber(phone=known_phone)
    return SafeNumber()
