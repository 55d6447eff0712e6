"""Which voice speaks each language on the phone, and which languages the phone menu offers.

Voices come from Twilio's text-to-speech list (Amazon Polly and Google voices Twilio supports).
A language with no voice there is spoken from recorded prompts under static/voice/<lang>/ and
is left out of the menu until every prompt has been recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows.voice_prompts import PROMPTS

AUDIO = Path(__file__).parent / "static" / "voice"


@dataclass(frozen=True)
class Voice:
    """The `voice` and `language` attributes of a TwiML <Say>."""

    voice: str
    language: str


# Every language the service ships; None means no Twilio voice (recorded prompts instead).
VOICES: dict[str, Voice | None] = {
    "en": Voice("Polly.Amy", "en-GB"),
    "cy": Voice("Polly.Gwyneth", "cy-GB"),
    "pl": Voice("Polly.Ewa", "pl-PL"),
    "ro": Voice("Polly.Carmen", "ro-RO"),
    "pa": Voice("Google.pa-IN-Standard-A", "pa-IN"),
    # Urdu: Twilio's published voice list has no Urdu voice we could confirm; record prompts.
    "ur": None,
    "pt": Voice("Polly.Ines", "pt-PT"),
    "es": Voice("Polly.Lucia", "es-ES"),
    "ar": Voice("Polly.Zeina", "arb"),
    "bn": Voice("Google.bn-IN-Standard-C", "bn-IN"),
    "gu": Voice("Google.gu-IN-Standard-C", "gu-IN"),
    # Somali: no text-to-speech voice on Twilio; record prompts.
    "so": None,
    "uk": Voice("Google.uk-UA-Standard-A", "uk-UA"),
}


def audio_path(language: str, key: str, directory: Path = AUDIO) -> Path:
    return directory / language / f"{key}.mp3"


def has_recordings(language: str, directory: Path = AUDIO) -> bool:
    """Every prompt recorded for a language without a voice."""
    return all(audio_path(language, key, directory).is_file() for key in PROMPTS)


def can_speak(language: str, directory: Path = AUDIO) -> bool:
    return VOICES.get(language) is not None or has_recordings(language, directory)


def phone_languages(offered: Iterable[str], directory: Path = AUDIO) -> list[str]:
    """The languages of the phone menu: offered in the settings, and speakable; English first."""
    return [code for code in dict.fromkeys(["en", *offered]) if can_speak(code, directory)]
