"""A call's state and voice: speaking a prompt in the caller's language, asking for keys, and
finding the call's enquiry and contact. The steps themselves are in voice_script.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from twilio.twiml.voice_response import Gather, VoiceResponse

from bot.channels.twilio.voices import VOICES, audio_path
from bot.core.services import Services
from bot.domain import contacts
from flows.voice_prompts import PROMPTS
from storage.models import Contact, Enquiry, VoiceCall

RE_ASKS = 2
PAGE = 8  # languages per menu page; key 9 is "more languages" when there are more
WITHHELD = {"", "anonymous", "+266696687", "restricted", "unknown", "unavailable", "private"}
ENGLISH = "en"


def caller_number(raw: str) -> str | None:
    """The caller's E.164 number, or None when withheld (or a browser/SIP client)."""
    value = raw.strip()
    if value.lower() in WITHHELD or value.lower().startswith(("client:", "sip:")):
        return None
    try:
        number = phonenumbers.parse(value, "GB")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def spaced(text: str) -> str:
    """Read digit by digit: "0 7 7 0 0 ..." rather than "seven billion"."""
    return " ".join(c for c in text if c.isalnum())


class CallBase:
    """One request of one call, inside the request's transaction."""

    def __init__(self, services: Services, session: AsyncSession, now: datetime) -> None:
        self.services = services
        self.settings = services.settings
        self.session = session
        self.now = now
        self.call: VoiceCall

    # -- speaking -------------------------------------------------------------
    def speak(
        self, node: VoiceResponse | Gather, key: str, language: str | None = None, **params: str
    ) -> None:
        """Say a prompt in the language's voice, or play its recording (values said in English)."""
        language = language or self.call.language
        voice = VOICES.get(language)
        if voice is None and audio_path(language, key).is_file():
            node.play(
                f"{self.settings.public_url.rstrip('/')}/twilio/voice/audio/{language}/{key}.mp3"
            )
            if params:
                english = VOICES[ENGLISH]
                assert english is not None
                node.say(" ".join(params.values()), voice=english.voice, language=english.language)
            return
        if voice is None:
            language, voice = ENGLISH, VOICES[ENGLISH]
        assert voice is not None
        text = self.services.catalogs.gettext(language)(PROMPTS[key]).format(
            service=self.settings.service_name, phone=self.settings.service_phone, **params
        )
        node.say(text, voice=voice.voice, language=voice.language)

    def url(self, step: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/twilio/voice/{step}?n={self.call.seq}"

    def gather(self, response: VoiceResponse, step: str, **options: Any) -> Gather:
        options.setdefault("num_digits", 1)
        options.setdefault("timeout", 6)
        return response.gather(
            action=self.url(step), method="POST", action_on_empty_result=True, **options
        )

    async def contact(self, number: str) -> Contact:
        contact = await contacts.find_or_create(self.session, "voice", number, self.now)
        contact.language = self.call.language
        contact.last_inbound_at = self.now
        await self.session.flush()
        return contact

    async def enquiry(self) -> Enquiry | None:
        if self.call.enquiry_id is None:
            return None

        return await self.session.scalar(
            select(Enquiry)
            .where(Enquiry.id == self.call.enquiry_id)
            .options(selectinload(Enquiry.callback))
        )

    def retry(self) -> bool:
        """Count a missing or wrong key; True while the question may still be asked again."""
        tries = int(self.call.state.get("tries", 0)) + 1
        self.call.state["tries"] = tries
        if tries <= RE_ASKS:
            return True
        self.call.state["tries"] = 0
        return False
