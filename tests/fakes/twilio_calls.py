"""The fake Twilio plays an outbound call as Twilio would: it fetches the call's answer URL when
the officer picks up, follows the <Dial> the TwiML asks for, then posts the <Dial> action and
the call's status callback, each signed for the public URL, to the server under test."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import httpx

from tests.fakes.twilio_api import FakeTwilio, signed_post_headers


@dataclass
class PlayedCall:
    """What Twilio saw: the TwiML on answer, the number dialled and the caller ID shown."""

    twiml: ET.Element
    dialled: str | None
    caller_id: str | None
    statuses: list[int] = field(default_factory=list)


async def play_call(
    fake: FakeTwilio,
    sid: str,
    server_url: str,
    *,
    parent: str = "completed",
    seconds: int = 95,
) -> PlayedCall:
    """Answer call `sid` as the officer, dial as its TwiML says; the parent's leg ends with
    `parent` (Twilio's DialCallStatus: completed, no-answer, busy, failed) after `seconds`."""
    [params] = [c["params"] for c in fake.calls_made() if c["sid"] == sid]
    public = params["Url"].split("/", 3)
    public_root = "/".join(public[:3])

    async def post(url: str, form: dict[str, str]) -> httpx.Response:
        headers = signed_post_headers(url, form, fake.auth_token)
        path = url.removeprefix(public_root)
        async with httpx.AsyncClient(base_url=server_url) as http:
            return await http.post(path, data=form, headers=headers)

    answered = await post(params["Url"], {"CallSid": sid, "CallStatus": "in-progress"})
    twiml = ET.fromstring(answered.text)
    played = PlayedCall(twiml, None, None, [answered.status_code])
    dial = twiml.find("Dial")
    if dial is not None:
        number = dial.find("Number")
        played.dialled = number.text if number is not None else None
        played.caller_id = dial.get("callerId")
        ended = {"CallSid": sid, "DialCallStatus": parent}
        if parent == "completed":
            ended["DialCallDuration"] = str(seconds)
        if dial.get("action"):
            played.statuses.append((await post(str(dial.get("action")), ended)).status_code)
    if params.get("StatusCallback"):
        done = {"CallSid": sid, "CallStatus": "completed"}
        played.statuses.append((await post(params["StatusCallback"], done)).status_code)
    return played
