"""Small shared pieces the channels lean on: a reply as numbered lines, a channel's own number."""

from __future__ import annotations

from flows.engine import Reply
from flows.validators import known_phone


def test_a_reply_reads_as_its_text_then_numbered_choices() -> None:
    assert Reply("Which stage?", ("SEN support", "EHC plan")).numbered() == (
        "Which stage?\n1. SEN support\n2. EHC plan"
    )
    assert Reply("Thank you.").numbered() == "Thank you."


def test_a_channels_number_is_known_when_we_could_ring_it_back() -> None:
    assert known_phone("+447700900123") == "+447700900123"  # Twilio's From
    assert known_phone("447700900123") == "+447700900123"  # Telegram leaves off the +
    assert known_phone("+14155552671") == "+14155552671"
    assert known_phone("SENDIASS") is None  # an alphanumeric sender
    assert known_phone("12345") is None  # a short code
