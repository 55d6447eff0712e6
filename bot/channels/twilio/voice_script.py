"""What the phone line says and does at each step of a call, as TwiML.

A call walks: office <Dial> (in hours) → language → notice and callback number → topic →
message → thanks. The enquiry and its callback exist as soon as a number is known, so a caller
who hangs up early still gets a call back. A missing or wrong key is asked again twice, then
the default is taken.
"""

from __future__ import annotations

from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from bot.channels.twilio.call_base import (
    ENGLISH,
    PAGE,
    RE_ASKS,
    CallBase,
    caller_number,
    spaced,
)
from bot.channels.twilio.voices import phone_languages
from bot.core.i18n import LANGUAGE_NAMES, due_parts
from bot.domain.enquiries import create_enquiry
from flows.intake import TOPICS
from flows.validators import phone
from storage.models import VoiceCall

STEPS = (
    "call",
    "dial-status",
    "language",
    "consent-number",
    "number",
    "confirm-number",
    "topic",
    "recorded",
)


class CallScript(CallBase):
    """The steps of a call: each answers one Twilio request with the next TwiML."""

    # -- the steps ------------------------------------------------------------
    async def run(self, step: str, form: dict[str, str]) -> str:
        call_sid = form.get("CallSid", "")
        call = await self.session.scalar(
            select(VoiceCall).where(VoiceCall.call_sid == call_sid).with_for_update()
        )
        if call is None:
            call = VoiceCall(
                call_sid=call_sid,
                caller=caller_number(form.get("From", "")),
                language=ENGLISH,
                seq=0,
                state={"tries": 0, "page": 0},
                started_at=self.now,
                updated_at=self.now,
            )
            self.session.add(call)
        self.call = call
        call.seq += 1
        call.updated_at = self.now
        call.state = dict(call.state)
        response = VoiceResponse()
        digits = form.get("Digits", "").strip()
        handler = {
            "call": self.answer,
            "dial-status": self.dial_status,
            "language": self.language,
            "consent-number": self.consent_number,
            "number": self.number,
            "confirm-number": self.confirm_number,
            "topic": self.topic,
            "recorded": self.recorded,
        }[step]
        if step == "dial-status":
            digits = form.get("DialCallStatus", "")
        await handler(response, digits)
        await self.session.flush()
        return str(response)

    async def answer(self, response: VoiceResponse, _: str) -> None:
        office = self.settings.office_number
        if office and self.services.clock.is_open(self.now):
            dial = response.dial(action=self.url("dial-status"), method="POST", timeout=25)
            dial.number(office)
            return
        self.speak(response, "danger", ENGLISH)
        self.ask_language(response)

    async def dial_status(self, response: VoiceResponse, status: str) -> None:
        if status in {"completed", "answered"}:
            response.hangup()
            return
        # No answer, busy or failed: the caller gets the out-of-hours assistant instead.
        self.speak(response, "danger", ENGLISH)
        self.ask_language(response)

    # language ---------------------------------------------------------------
    def languages(self) -> list[str]:
        offered = [code for code in self.settings.languages if code in LANGUAGE_NAMES]
        return [c for c in phone_languages(offered) if c in self.services.catalogs.languages]

    def page(self) -> tuple[list[str], bool]:
        languages = self.languages()
        page = int(self.call.state.get("page", 0))
        if len(languages) <= 9:
            return languages, False
        chunk = languages[page * PAGE : (page + 1) * PAGE]
        return chunk, (page + 1) * PAGE < len(languages)

    def ask_language(self, response: VoiceResponse) -> None:
        if len(self.languages()) == 1:
            self.call.language = self.languages()[0]
            self.ask_number(response)
            return
        gather = self.gather(response, "language")
        chunk, more = self.page()
        for digit, code in enumerate(chunk, 1):
            self.speak(gather, "language_option", code, name=LANGUAGE_NAMES[code], digit=str(digit))
        if more:
            self.speak(gather, "more_languages", ENGLISH)

    async def language(self, response: VoiceResponse, digits: str) -> None:
        chunk, more = self.page()
        if more and digits == "9":
            self.call.state["page"] = int(self.call.state.get("page", 0)) + 1
            self.ask_language(response)
            return
        if digits.isdigit() and 1 <= int(digits) <= len(chunk):
            self.call.language = chunk[int(digits) - 1]
        elif self.retry():
            self.speak(response, "not_understood", ENGLISH)
            self.call.state["page"] = 0
            self.ask_language(response)
            return
        else:
            self.call.language = ENGLISH
        self.call.state["tries"] = 0
        self.ask_number(response)

    # callback number ----------------------------------------------------------
    def ask_number(self, response: VoiceResponse, notice: bool = True) -> None:
        if notice:
            self.speak(response, "notice")
        if self.call.caller:
            self.speak(self.gather(response, "consent-number"), "consent_number")
        else:
            self.ask_keyed_number(response)

    def ask_keyed_number(self, response: VoiceResponse) -> None:
        gather = self.gather(response, "number", num_digits=None, finish_on_key="#", timeout=10)
        self.speak(gather, "key_number")

    async def consent_number(self, response: VoiceResponse, digits: str) -> None:
        if digits == "2":
            self.call.state["tries"] = 0
            self.ask_keyed_number(response)
            return
        if digits != "1" and self.retry():
            self.speak(response, "not_understood")
            self.ask_number(response, notice=False)
            return
        assert self.call.caller is not None
        await self.promise(response, self.call.caller)

    async def number(self, response: VoiceResponse, digits: str) -> None:
        keyed = phone(digits) if digits.isdigit() and 5 <= len(digits) <= 15 else None
        if isinstance(keyed, str):
            self.call.state["keyed"] = keyed
            self.call.state["tries"] = 0
            self.read_back(response, digits)
            return
        if self.retry():
            self.speak(response, "bad_number" if digits else "not_understood")
            self.ask_keyed_number(response)
            return
        await self.fall_back(response)

    def read_back(self, response: VoiceResponse, digits: str) -> None:
        self.call.state["keyed_digits"] = digits
        gather = self.gather(response, "confirm-number")
        self.speak(gather, "read_back", digits=spaced(digits))
        self.speak(gather, "confirm_number")

    async def confirm_number(self, response: VoiceResponse, digits: str) -> None:
        keyed = str(self.call.state.get("keyed", ""))
        if digits == "2":
            rounds = int(self.call.state.get("rounds", 0)) + 1
            self.call.state["rounds"] = rounds
            if rounds <= RE_ASKS:
                self.ask_keyed_number(response)
                return
            await self.fall_back(response)
            return
        if digits != "1" and self.retry():
            self.speak(response, "not_understood")
            self.read_back(response, str(self.call.state.get("keyed_digits", "")))
            return
        # Confirmed, or no clear answer three times: the number passed the checks, so use it.
        await self.promise(response, keyed)

    async def fall_back(self, response: VoiceResponse) -> None:
        """No usable keyed number: ring the caller's own, or explain we cannot call back."""
        if self.call.caller:
            await self.promise(response, self.call.caller)
            return
        self.speak(response, "no_number")
        response.hangup()

    async def promise(self, response: VoiceResponse, number: str) -> None:
        """A number is known: the enquiry and its callback exist from now on (fail open)."""
        self.call.state["tries"] = 0
        if self.call.enquiry_id is None:
            contact = await self.contact(number)
            enquiry = await create_enquiry(
                self.session,
                self.settings,
                self.services.clock,
                contact=contact,
                channel="voice",
                state={"language": self.call.language, "answers": {"phone": number}},
                received_at=self.call.started_at,
                now=self.now,
                incomplete=True,
            )
            self.call.enquiry_id = enquiry.id
        self.ask_topic(response)

    # topic and message -----------------------------------------------------------
    def ask_topic(self, response: VoiceResponse) -> None:
        gather = self.gather(response, "topic")
        self.speak(gather, "topic_menu")
        _ = self.services.catalogs.gettext(self.call.language)
        for digit, choice in enumerate(TOPICS, 1):
            self.speak(gather, "topic_option", topic=_(choice.label), digit=str(digit))

    async def topic(self, response: VoiceResponse, digits: str) -> None:
        if digits.isdigit() and 1 <= int(digits) <= len(TOPICS):
            value = TOPICS[int(digits) - 1].value
        elif self.retry():
            self.speak(response, "not_understood")
            self.ask_topic(response)
            return
        else:
            value = "other"
        enquiry = await self.enquiry()
        if enquiry is not None:
            enquiry.topic = value
            enquiry.answers = {**enquiry.answers, "topic": value}
        self.call.state["tries"] = 0
        self.speak(response, "record")
        response.record(
            action=self.url("recorded"),
            method="POST",
            max_length=180,
            finish_on_key="#",
            play_beep=True,
            recording_status_callback=(
                f"{self.settings.public_url.rstrip('/')}/twilio/voice/recording-status"
            ),
            recording_status_callback_method="POST",
            recording_status_callback_event="completed",
        )
        # Silence ends <Record> without calling its action: thank the caller all the same.
        response.redirect(self.url("recorded"), method="POST")

    async def recorded(self, response: VoiceResponse, _: str) -> None:
        enquiry = await self.enquiry()
        if enquiry is None or enquiry.callback is None:
            self.speak(response, "goodbye")
            response.hangup()
            return
        enquiry.incomplete = False
        parts = due_parts(enquiry.callback.due_at, self.call.language, self.settings.timezone)
        self.speak(response, "thanks", reference=spaced(enquiry.reference), **parts)
        response.hangup()
