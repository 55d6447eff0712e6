"""Whole phone calls through signed Twilio webhooks: each step's TwiML parsed and checked."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import select
from starlette.datastructures import ImmutableMultiDict
from twilio.request_validator import RequestValidator

from bot.channels.twilio.client import is_twilio_url
from bot.channels.twilio.voice import fetch_recording
from bot.channels.twilio.voices import VOICES, phone_languages
from bot.core.i18n import LANGUAGE_NAMES, Catalogs
from bot.core.services import Services
from bot.core.settings import Settings
from bot.domain.callbacks import open_queue
from bot.web.app import create_app
from bot.wiring import build_services
from flows.voice_prompts import PROMPTS
from storage.models import Enquiry, InboxMessage, Recording, VoiceCall
from tests.conftest import FakeClock, london, test_settings
from tests.fakes.server import LiveServer
from tests.fakes.twilio_api import (
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
    recording_status_form,
    signed_post_headers,
    voice_form,
)
from tests.parent import count

PUBLIC = "https://helpline.example.org"
LINE = "+441234567890"
CALLER = "+447700900111"
WELSH_NOTICE = "Croeso i {service}. Mae ein cyngor yn rhad ac am ddim."


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(
        db_url,
        public_url=PUBLIC,
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
    )


def compile_catalogs(directory: Path, languages: tuple[str, ...]) -> Path:
    """Tiny compiled catalogs (the real ones come from the languages work)."""
    for code in languages:
        catalog = Catalog(locale=code)
        if code == "cy":
            catalog.add(PROMPTS["notice"], WELSH_NOTICE)
        folder = directory / code / "LC_MESSAGES"
        folder.mkdir(parents=True)
        with (folder / "messages.mo").open("wb") as handle:
            write_mo(handle, catalog)
    return directory


def multilingual(
    settings: Settings, clock: FakeClock, tmp_path: Path, languages: tuple[str, ...]
) -> Services:
    """Services offering `languages`, with catalogs compiled for the test."""
    services = build_services(settings, now=clock)
    services.settings = replace(settings, languages=languages)
    catalogs = Catalogs(languages, compile_catalogs(tmp_path, languages[1:]))
    services.catalogs = services.router.catalogs = catalogs
    return services


async def phone_client(services: Services) -> httpx.AsyncClient:
    app = create_app(services.settings, services=services, migrate=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC)


@pytest.fixture
async def http(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with await phone_client(services) as client:
        yield client


class Call:
    """One caller: posts what Twilio would post, to the URLs the TwiML names."""

    def __init__(self, http: httpx.AsyncClient, sid: str = "CA" + "1" * 32, caller: str = CALLER):
        self.http, self.sid, self.caller = http, sid, caller
        self.twiml: ET.Element | None = None

    async def post(self, url: str, form: dict[str, str]) -> httpx.Response:
        headers = signed_post_headers(url, form, DEFAULT_AUTH_TOKEN)
        return await self.http.post(url, data=form, headers=headers)

    async def start(self) -> ET.Element:
        return await self.to(f"{PUBLIC}/twilio/voice", voice_form(self.sid, self.caller, LINE))

    async def to(self, url: str, form: dict[str, str]) -> ET.Element:
        response = await self.post(url, form)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        self.twiml = ET.fromstring(response.text)
        return self.twiml

    async def press(self, digits: str | None) -> ET.Element:
        """Answer the current <Gather> (None: no key at all, Twilio posts an empty result)."""
        assert self.twiml is not None
        gather = self.twiml.find("Gather")
        assert gather is not None, ET.tostring(self.twiml)
        form = voice_form(self.sid, self.caller, LINE, "in-progress", digits or "")
        return await self.to(gather.attrib["action"], form)

    async def hang_up_message(self) -> ET.Element:
        assert self.twiml is not None
        record = self.twiml.find("Record")
        assert record is not None
        form = voice_form(self.sid, self.caller, LINE, "in-progress")
        form.update(RecordingUrl="https://api.twilio.com/x", RecordingDuration="12", Digits="#")
        return await self.to(record.attrib["action"], form)


def says(element: ET.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


def gather_of(element: ET.Element) -> ET.Element:
    gather = element.find("Gather")
    assert gather is not None, ET.tostring(element)
    return gather


async def enquiries(services: Services) -> list[Enquiry]:
    async with services.sessions() as session:
        return list((await session.scalars(select(Enquiry).order_by(Enquiry.id))).all())


# -- the voices table ------------------------------------------------------------------------
def test_every_shipped_language_has_a_voice_or_is_marked_for_recordings() -> None:
    assert set(VOICES) == set(LANGUAGE_NAMES)
    for code, voice in VOICES.items():
        if voice is None:
            continue
        assert re.fullmatch(
            r"Polly\.[A-Z][a-z]+|Google\.[a-z]{2,3}-[A-Z]{2}-Standard-[A-Z]", voice.voice
        )
        assert voice.language.split("-")[0] in {code, "arb"}
        if voice.voice.startswith("Google."):
            assert voice.voice.split(".", 1)[1].startswith(voice.language + "-")


def test_a_language_without_a_voice_joins_the_menu_only_when_every_prompt_is_recorded(
    tmp_path: Path,
) -> None:
    assert phone_languages(["en", "cy", "so"], tmp_path) == ["en", "cy"]
    (tmp_path / "so").mkdir()
    for key in list(PROMPTS)[:-1]:
        (tmp_path / "so" / f"{key}.mp3").write_bytes(b"ID3")
    assert "so" not in phone_languages(["en", "so"], tmp_path)
    (tmp_path / "so" / f"{list(PROMPTS)[-1]}.mp3").write_bytes(b"ID3")
    assert phone_languages(["en", "so"], tmp_path) == ["en", "so"]


# -- in office hours ---------------------------------------------------------------------------
async def test_in_hours_the_call_is_put_through_and_an_unanswered_one_continues(
    services: Services, clock: FakeClock
) -> None:
    services.settings = replace(services.settings, office_number="+441234000111")
    async with await phone_client(services) as http:
        call = Call(http)
        twiml = await call.start()
        dial = twiml.find("Dial")
        assert dial is not None
        assert dial.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/dial-status?n=")
        number = dial.find("Number")
        assert number is not None and number.text == "+441234000111"
        form = voice_form(call.sid, CALLER, LINE, "in-progress")
        form["DialCallStatus"] = "no-answer"
        after = await call.to(dial.attrib["action"], form)
        assert "hang up and call 999" in says(after)[0]
        assert gather_of(after).attrib["action"].startswith(f"{PUBLIC}/twilio/voice/consent-number")

        answered = Call(http, sid="CA" + "2" * 32)
        twiml = await answered.start()
        dial = twiml.find("Dial")
        assert dial is not None
        form = voice_form(answered.sid, CALLER, LINE, "completed")
        form["DialCallStatus"] = "completed"
        done = await answered.to(dial.attrib["action"], form)
        assert [child.tag for child in done] == ["Hangup"]
    assert await enquiries(services) == []


# -- out of hours ------------------------------------------------------------------------------
async def test_out_of_hours_a_caller_leaves_a_callback_request(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 18, 0))  # Friday evening
    call = Call(http)
    first = await call.start()
    assert first.find("Dial") is None
    assert says(first)[0] == "If a child is in danger now, hang up and call 999."
    consent = gather_of(first)
    assert consent.attrib["numDigits"] == "1"
    assert consent.attrib["actionOnEmptyResult"] == "true"
    assert "call you back on the number you are calling from" in says(consent)[0]
    topics = gather_of(await call.press("1"))
    assert len(topics.findall("Say")) == 10  # the question and nine topics
    assert says(topics)[3] == "For Tribunal or mediation, press 3."
    assert all(s.attrib["voice"] == "Polly.Amy" for s in topics.findall("Say"))
    # The callback exists as soon as the number is known.
    [enquiry] = await enquiries(services)
    assert enquiry.channel == "voice" and enquiry.callback_phone == CALLER and enquiry.incomplete
    message = await call.press("3")
    record = message.find("Record")
    assert record is not None
    assert record.attrib["maxLength"] == "180"
    assert record.attrib["finishOnKey"] == "#"
    assert record.attrib["recordingStatusCallback"] == f"{PUBLIC}/twilio/voice/recording-status"
    assert record.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/recorded?n=")
    assert [child.tag for child in message] == ["Say", "Record", "Redirect"]
    thanks = await call.hang_up_message()
    assert [child.tag for child in thanks] == ["Say", "Hangup"]
    assert "call you back by 17:00 on Monday 30 November" in says(thanks)[0]
    [enquiry] = await enquiries(services)
    assert enquiry.topic == "tribunal" and not enquiry.incomplete
    async with services.sessions() as session:
        [row] = await open_queue(session)
    assert row["channel"] == "voice" and row["topic"] == "tribunal"
    assert row["due_at"] == "2026-11-30T17:00:00+00:00"


async def test_the_language_menu_speaks_each_language_in_itself(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(london(2026, 11, 28, 11, 0))  # Saturday: closed
    languages = ("en", "cy", "pl", "so")
    services = multilingual(settings, clock, tmp_path, languages)
    try:
        async with await phone_client(services) as http:
            call = Call(http)
            menu = gather_of(await call.start())
            options = menu.findall("Say")
            assert [(s.text, s.attrib["voice"], s.attrib["language"]) for s in options] == [
                ("For English, press 1.", "Polly.Amy", "en-GB"),
                ("For Cymraeg, press 2.", "Polly.Gwyneth", "cy-GB"),
                ("For Polski, press 3.", "Polly.Ewa", "pl-PL"),
            ]  # Somali has no voice and no recordings yet: not offered
            welsh = await call.press("2")
            notice = welsh.find("Say")
            assert notice is not None
            assert notice.text == WELSH_NOTICE.format(service=settings.service_name)
            assert notice.attrib["voice"] == "Polly.Gwyneth"
            await call.press("1")
            await call.press("9")
            thanks = await call.hang_up_message()
            assert "dydd Llun 30 Tachwedd" in says(thanks)[0]  # the promised day, in Welsh
            [enquiry] = await enquiries(services)
            assert enquiry.language == "cy" and enquiry.topic == "other"
    finally:
        await services.close()


async def test_a_caller_keys_in_another_number_and_it_is_read_back(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http)
    await call.start()
    keyed = gather_of(await call.press("2"))
    assert keyed.attrib["finishOnKey"] == "#" and "numDigits" not in keyed.attrib
    readback = gather_of(await call.press("07700900123"))
    assert says(readback)[0] == "You keyed 0 7 7 0 0 9 0 0 1 2 3."
    again = gather_of(await call.press("2"))
    assert again.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/number")
    await call.press("07700900456")
    assert await enquiries(services) == []  # not until the number is confirmed
    topics = gather_of(await call.press("1"))
    assert "What is your call about?" in says(topics)
    [enquiry] = await enquiries(services)
    assert enquiry.callback_phone == "+447700900456"


@pytest.mark.parametrize("withheld", ["anonymous", "+266696687", "", "client:alice"])
async def test_a_withheld_caller_must_key_in_a_number(
    services: Services, http: httpx.AsyncClient, clock: FakeClock, withheld: str
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http, caller=withheld)
    first = await call.start()
    gather = gather_of(first)
    assert gather.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/number")
    assert "key in the number" in says(gather)[0]
    await call.press("01632 960")  # too short, and not digits only: asked again
    await call.press(None)
    goodbye = await call.press("12")
    assert goodbye.find("Gather") is None
    assert "could not take a number" in says(goodbye)[0]
    assert goodbye[-1].tag == "Hangup"
    assert await enquiries(services) == []


async def test_a_withheld_caller_who_keys_a_number_gets_a_callback(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http, caller="anonymous")
    await call.start()
    await call.press("07700900789")
    await call.press("1")
    [enquiry] = await enquiries(services)
    assert enquiry.callback_phone == "+447700900789"


async def test_wrong_and_missing_keys_are_asked_twice_then_the_default_is_taken(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    languages = ("en", "cy")
    services = multilingual(settings, clock, tmp_path, languages)
    try:
        async with await phone_client(services) as http:
            call = Call(http)
            await call.start()
            again = await call.press("7")
            assert says(again)[0] == "Sorry, I did not get that."
            assert gather_of(again).attrib["action"].startswith(f"{PUBLIC}/twilio/voice/language")
            await call.press(None)
            consent = gather_of(await call.press("*"))  # third miss: English
            assert consent.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/consent-number")
            await call.press("5")
            await call.press(None)
            topics = gather_of(await call.press("0"))  # third miss: the caller's own number
            assert topics.attrib["action"].startswith(f"{PUBLIC}/twilio/voice/topic")
            await call.press("0")
            await call.press("#")
            message = await call.press(None)  # third miss: "something else"
            assert message.find("Record") is not None
            [enquiry] = await enquiries(services)
            assert (enquiry.language, enquiry.callback_phone, enquiry.topic) == (
                "en",
                CALLER,
                "other",
            )
    finally:
        await services.close()


async def test_a_caller_who_hangs_up_before_the_message_still_gets_a_callback(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http)
    await call.start()
    await call.press("1")
    status = voice_form(call.sid, CALLER, LINE, "completed")
    response = await call.post(f"{PUBLIC}/twilio/voice/status", status)
    assert response.status_code == 204
    async with services.sessions() as session:
        [row] = await open_queue(session)
    assert row["channel"] == "voice" and row["incomplete"] is True
    assert row["due_at"] == "2026-11-30T17:00:00+00:00"


async def test_a_repeated_webhook_gets_the_same_twiml_and_changes_nothing(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http)
    first = await call.start()
    action = gather_of(first).attrib["action"]
    form = voice_form(call.sid, CALLER, LINE, "in-progress", "1")
    once = await call.post(action, form)
    rows = await count(services, InboxMessage)
    twice = await call.post(action, form)
    assert once.status_code == twice.status_code == 200
    assert once.text == twice.text
    assert await count(services, InboxMessage) == rows
    assert len(await enquiries(services)) == 1
    again = await call.post(f"{PUBLIC}/twilio/voice", voice_form(call.sid, CALLER, LINE))
    assert ET.tostring(ET.fromstring(again.text)) == ET.tostring(first)


async def test_forged_or_unsigned_webhooks_get_403_and_nothing_is_written(
    services: Services, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    form = voice_form("CA" + "9" * 32, CALLER, LINE)
    url = f"{PUBLIC}/twilio/voice"
    forged = signed_post_headers(url, form, "0" * 32)
    assert (await http.post(url, data=form, headers=forged)).status_code == 403
    unsigned = await http.post(url, data=form)
    assert unsigned.status_code == 403
    elsewhere = signed_post_headers(f"{PUBLIC}/twilio/voice/topic?n=1", form, DEFAULT_AUTH_TOKEN)
    assert (await http.post(url, data=form, headers=elsewhere)).status_code == 403
    tampered = signed_post_headers(url, form, DEFAULT_AUTH_TOKEN)
    changed = {**form, "From": "+447700900999"}
    assert (await http.post(url, data=changed, headers=tampered)).status_code == 403
    status = recording_status_form(form["CallSid"], "RE" + "1" * 32, 5, "https://api.twilio.com/r")
    bad = signed_post_headers(f"{PUBLIC}/twilio/voice/recording-status", status, "0" * 32)
    response = await http.post("/twilio/voice/recording-status", data=status, headers=bad)
    assert response.status_code == 403
    for model in (InboxMessage, VoiceCall, Recording, Enquiry):
        assert await count(services, model) == 0


async def test_bad_requests_get_clear_4xx_answers(
    services: Services, http: httpx.AsyncClient
) -> None:
    call = Call(http)
    form = voice_form(call.sid, CALLER, LINE)
    assert (await call.post(f"{PUBLIC}/twilio/voice/nowhere", form)).status_code == 404
    assert (await call.post(f"{PUBLIC}/twilio/voice/call", form)).status_code == 404
    no_sid = {k: v for k, v in form.items() if k != "CallSid"}
    assert (await call.post(f"{PUBLIC}/twilio/voice", no_sid)).status_code == 400
    assert (await call.post(f"{PUBLIC}/twilio/voice/topic?n=x", form)).status_code == 400
    assert await count(services, InboxMessage) == 0


# -- recordings --------------------------------------------------------------------------------
async def test_the_recording_is_stored_against_the_enquiry_and_fetched_with_credentials(
    services: Services, clock: FakeClock
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    fake = FakeTwilio()
    async with LiveServer(fake.app) as server:
        services.settings = replace(services.settings, twilio_api_base_url=server.url)
        async with await phone_client(services) as http:
            call = Call(http)
            await call.start()
            await call.press("1")
            await call.press("2")
            sid = fake.add_recording(call.sid, duration=42)
            url = (
                f"https://api.twilio.com/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Recordings/{sid}"
            )
            form = recording_status_form(call.sid, sid, 42, url)
            for _ in range(2):  # Twilio retries: still one recording
                response = await call.post(f"{PUBLIC}/twilio/voice/recording-status", form)
                assert response.status_code == 204
        async with services.sessions() as session:
            [recording] = (await session.scalars(select(Recording))).all()
        [enquiry] = await enquiries(services)
        assert recording.enquiry_id == enquiry.id
        assert (recording.recording_sid, recording.duration_seconds) == (sid, 42)
        audio = await fetch_recording(services, recording)
        assert audio.startswith(b"ID3")
        media = [r for r in fake.requests if str(r.get("path", "")).endswith(".mp3")]
        assert media, fake.requests


async def test_more_than_nine_languages_page_on_key_9(
    settings: Settings, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(london(2026, 11, 27, 20, 0))
    services = multilingual(settings, clock, tmp_path, tuple(LANGUAGE_NAMES))
    try:
        async with await phone_client(services) as http:
            call = Call(http)
            first = says(gather_of(await call.start()))
            assert len(first) == 9 and first[-1] == "For more languages, press 9."
            second = says(gather_of(await call.press("9")))
            offered = [c for c in LANGUAGE_NAMES if VOICES[c] is not None]
            assert len(second) == len(offered) - 8
            assert second[1] == f"For {LANGUAGE_NAMES[offered[9]]}, press 2."
            await call.press("2")
            await call.press("1")
            [enquiry] = await enquiries(services)
            assert enquiry.language == offered[9]
    finally:
        await services.close()


async def test_helpline_queue_json_shows_the_phone_callback(
    services: Services,
    http: httpx.AsyncClient,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse
    import json

    from bot.cli.main import queue

    clock.set(london(2026, 11, 27, 20, 0))
    call = Call(http)
    await call.start()
    await call.press("1")
    await call.press("4")
    assert await queue(services, argparse.Namespace(json=True, all=False)) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["channel"], row["language"], row["topic"]) == ("voice", "en", "exclusion")


async def test_a_webhook_with_a_repeated_key_is_checked_with_every_value(
    services: Services, http: httpx.AsyncClient
) -> None:
    """Twilio signs each value of a key posted twice; keeping only one would 403 a real call."""
    url = f"{PUBLIC}/twilio/voice"
    pairs = [*voice_form("CA" + "8" * 32, CALLER, LINE).items(), ("Extra", "a"), ("Extra", "b")]
    headers = signed_post_headers(url, {}, DEFAULT_AUTH_TOKEN)
    headers["X-Twilio-Signature"] = RequestValidator(DEFAULT_AUTH_TOKEN).compute_signature(
        url, ImmutableMultiDict(pairs)
    )
    response = await http.post(url, content=urlencode(pairs), headers=headers)
    assert response.status_code == 200, response.text
    dropped = urlencode(pairs[:-1])  # the same signature without one of the values
    assert (await http.post(url, content=dropped, headers=headers)).status_code == 403


def test_only_twilio_hosts_count_as_twilio() -> None:
    assert is_twilio_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1.mp3")
    assert is_twilio_url("https://twilio.com/x")
    assert not is_twilio_url("http://api.twilio.com/x")  # credentials never go in clear
    assert not is_twilio_url("https://eviltwilio.com/x")
    assert not is_twilio_url("https://api.twilio.com.example.org/x")
