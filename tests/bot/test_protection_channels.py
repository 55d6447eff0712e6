"""`export --phone` and `erase --phone` find everything a parent left on each channel: the
web chat and Telegram enquiries that gave the number, their contact, inbox and transcript."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli.protection import erase, export
from bot.core.services import Services
from bot.core.settings import Settings
from storage.crypto import lookup_hash
from storage.models import (
    Base,
    Contact,
    Conversation,
    Enquiry,
    InboxMessage,
    OutboxMessage,
    Recording,
    RiskMatch,
    TranscriptLine,
    VoiceCall,
)
from tests.bot.channels.test_voice import PUBLIC, Call, phone_client
from tests.bot.test_protection import args, everything
from tests.conftest import FakeClock, london, test_settings
from tests.fakes.twilio_api import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, recording_status_form
from tests.parent import ANSWERS, CONFIRM, Parent

PHONE = "+447700900123"
TYPED_PHONE = "07700 900123"
STORY = "The school says they cannot meet Jamie's needs."
RISK = "I worry he will kill himself"
CHAT_ID = "515151"
SECTIONS: dict[str, type[Base]] = {
    "contacts": Contact,
    "enquiries": Enquiry,
    "conversations": Conversation,
    "messages received": InboxMessage,
    "transcript": TranscriptLine,
    "messages sent": OutboxMessage,
    "risk matches": RiskMatch,
    "phone calls": VoiceCall,
    "recordings": Recording,
}


@pytest.fixture
def settings(db_url: str) -> Settings:
    return test_settings(
        db_url,
        public_url=PUBLIC,
        twilio_account_sid=DEFAULT_ACCOUNT_SID,
        twilio_auth_token=DEFAULT_AUTH_TOKEN,
    )


async def by_webchat(services: Services) -> str:
    """The whole intake in the web chat, typing the number, then words that suggest risk."""
    async with await phone_client(services) as http:
        assert (await http.get("/chat")).status_code == 200
        answers = list(ANSWERS)
        answers[6], answers[7] = STORY, TYPED_PHONE
        for n, text in enumerate(["hello", *answers, CONFIRM, RISK]):
            response = await http.post("/chat/messages", json={"id": str(n), "text": text})
            assert response.status_code == 200, response.text
        return str(http.cookies["helpline_chat"])


async def by_telegram(services: Services) -> str:
    parent = Parent(services, "telegram", CHAT_ID)
    await parent.complete(description=STORY, phone=TYPED_PHONE)
    await parent.say(RISK)
    return CHAT_ID


async def by_sms(services: Services) -> str:
    parent = Parent(services, "sms", PHONE)
    await parent.complete(description=STORY, phone=TYPED_PHONE)
    await parent.say(RISK)
    return PHONE


async def by_voice(services: Services, clock: FakeClock) -> str:
    """Out of hours: the caller leaves a callback request and a message, which is recorded."""
    clock.set(london(2026, 11, 27, 20, 0))
    async with await phone_client(services) as http:
        call = Call(http, caller=PHONE)
        await call.start()
        await call.press("1")
        await call.press("3")
        await call.hang_up_message()
        sid = "RE" + "7" * 32
        url = f"https://api.twilio.com/2010-04-01/Accounts/{DEFAULT_ACCOUNT_SID}/Recordings/{sid}"
        form = recording_status_form(call.sid, sid, 42, url)
        response = await call.post(f"{PUBLIC}/twilio/voice/recording-status", form)
        assert response.status_code == 204
    return call.sid


async def counts(services: Services) -> dict[str, int]:
    async with services.sessions() as session:
        return {
            name: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in SECTIONS.items()
        }


@pytest.mark.parametrize("channel", ["webchat", "telegram", "sms", "voice"])
async def test_export_and_erase_by_phone_find_everything_on_every_channel(
    channel: str, services: Services, clock: FakeClock, tmp_path: Path
) -> None:
    if channel == "webchat":
        address = await by_webchat(services)
    elif channel == "telegram":
        address = await by_telegram(services)
    elif channel == "sms":
        address = await by_sms(services)
    else:
        address = await by_voice(services, clock)
    stored = await counts(services)
    assert stored["enquiries"] >= 1 and stored["messages received"] >= 3, stored

    output = tmp_path / "sar.json"
    assert await export(services, args(phone=TYPED_PHONE, output=str(output))) == 0
    records = json.loads(output.read_text())["records"]
    found = {name: len(records[name]) for name in SECTIONS}
    assert found == stored  # one parent in the store: every row of theirs is in the export

    assert await erase(services, args(phone=TYPED_PHONE, yes=True)) == 0
    assert await counts(services) == dict.fromkeys(SECTIONS, 0)
    dump = await everything(services)  # every remaining row, decrypted
    needles = [PHONE, "7700900123", STORY, RISK, lookup_hash(PHONE), address, lookup_hash(address)]
    for needle in needles:
        assert needle not in dump, needle
    # The erased person cannot be found again either.
    assert await export(services, args(phone=TYPED_PHONE, output=str(output))) == 0
    records = json.loads(output.read_text())["records"]
    assert all(not records[name] for name in SECTIONS)
