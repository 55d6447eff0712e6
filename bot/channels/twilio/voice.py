"""The telephone line on Twilio Voice: signed webhooks in, TwiML out, each step exactly once.

Every request is checked against Twilio's signature for the public URL it was sent to; a forged
one gets 403 before anything is written. Each (CallSid, step) is recorded in the inbox with the
TwiML it got, so a retried webhook hears the same answer and changes nothing.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import httpx
from sqlalchemy import select
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.channels.twilio.call_base import caller_number
from bot.channels.twilio.client import is_twilio_url, rebase_twilio_url, signed_by_twilio
from bot.channels.twilio.voice_script import STEPS, CallScript
from bot.channels.twilio.voices import AUDIO
from bot.conversation.helpline import Helpline
from storage import inbox
from storage.models import InboxMessage, Recording, VoiceCall

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
TWIML = "application/xml"


async def read_form(request: Request) -> ImmutableMultiDict[str, str] | None:
    """The posted form, every value of a repeated key kept (Twilio signs them all)."""
    if request.headers.get("content-type", "").split(";")[0].strip() not in {
        "application/x-www-form-urlencoded",
        "",
    }:
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        return ImmutableMultiDict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return None


def routes(services: Helpline) -> list[Route | Mount]:
    one_writer = services.router.one_writer  # the same turn-taking as every message

    async def checked(request: Request) -> dict[str, str] | Response:
        form = await read_form(request)
        if form is None:
            return Response("Send the webhook as a form.", status_code=400)
        if not signed_by_twilio(request, form, services.settings):
            return Response("Forbidden", status_code=403)
        call_sid = form.get("CallSid", "")
        if not call_sid or len(call_sid) > 64:
            return Response("CallSid missing.", status_code=400)
        return dict(form)  # a repeated key counts once, its last value

    async def step(request: Request) -> Response:
        name = request.path_params.get("step", "call")
        if name not in STEPS or (name == "call") != ("step" not in request.path_params):
            return Response("Not found", status_code=404)
        form = await checked(request)
        if isinstance(form, Response):
            return form
        n = request.query_params.get("n", "0")
        if not n.isdigit() or len(n) > 6:
            return Response("Bad step.", status_code=400)
        provider_id = f"{form['CallSid']}:{name}.{n}"
        now = services.now()
        async with one_writer(), services.sessions.begin() as session:
            inbox_id = await inbox.record_inbound(
                session,
                channel="voice",
                provider_id=provider_id,
                address=caller_number(form.get("From", "")) or "withheld",
                payload={"step": name, "digits": form.get("Digits")},
                received_at=now,
            )
            if inbox_id is None:
                row = await inbox.find_inbound(session, "voice", provider_id)
                twiml = str(((row.replies if row else None) or {}).get("twiml", ""))
                return Response(twiml, media_type=TWIML)
            twiml = await CallScript(services, session, now).run(name, form)
            row = await session.get(InboxMessage, inbox_id)
            assert row is not None
            row.processed_at = now
            row.replies = {"twiml": twiml}
        return Response(twiml, media_type=TWIML)

    async def recording_status(request: Request) -> Response:
        form = await checked(request)
        if isinstance(form, Response):
            return form
        recording_sid = form.get("RecordingSid", "")
        if not recording_sid or len(recording_sid) > 64:
            return Response("RecordingSid missing.", status_code=400)
        now = services.now()
        async with one_writer(), services.sessions.begin() as session:
            inbox_id = await inbox.record_inbound(
                session,
                channel="voice",
                provider_id=f"{form['CallSid']}:recording.{recording_sid}",
                address="recording",
                payload={"step": "recording-status", "status": form.get("RecordingStatus")},
                received_at=now,
            )
            if inbox_id is None:
                return Response(status_code=204)
            if form.get("RecordingStatus", "completed") == "completed":
                call = await session.scalar(
                    select(VoiceCall).where(VoiceCall.call_sid == form["CallSid"])
                )
                duration = form.get("RecordingDuration", "")
                session.add(
                    Recording(
                        enquiry_id=call.enquiry_id if call else None,
                        call_sid=form["CallSid"],
                        recording_sid=recording_sid,
                        duration_seconds=int(duration) if duration.isdigit() else None,
                        url=form.get("RecordingUrl") or None,
                        created_at=now,
                    )
                )
            row = await session.get(InboxMessage, inbox_id)
            assert row is not None
            row.processed_at = now
            row.replies = {}
        return Response(status_code=204)

    async def call_status(request: Request) -> Response:
        """Twilio's call status callback: noted, nothing to do (the callback already exists)."""
        form = await checked(request)
        if isinstance(form, Response):
            return form
        status = form.get("CallStatus", "")[:16]
        async with one_writer(), services.sessions.begin() as session:
            inbox_id = await inbox.record_inbound(
                session,
                channel="voice",
                provider_id=f"{form['CallSid']}:status.{status}",
                address="status",
                payload={"step": "status", "status": status},
                received_at=services.now(),
            )
            row = await session.get(InboxMessage, inbox_id) if inbox_id else None
            if row is not None:
                row.processed_at = services.now()
                row.replies = {}
        return Response(status_code=204)

    return [
        Route("/twilio/voice", step, methods=["POST"]),
        Route("/twilio/voice/recording-status", recording_status, methods=["POST"]),
        Route("/twilio/voice/status", call_status, methods=["POST"]),
        Mount(
            "/twilio/voice/audio", StaticFiles(directory=AUDIO, check_dir=False), name="voice-audio"
        ),
        Route("/twilio/voice/{step}", step, methods=["POST"]),
    ]


class RecordingUnavailable(RuntimeError):
    """The recording could not be fetched from Twilio (gone, or credentials refused)."""


async def fetch_recording(services: Helpline, recording: Recording) -> bytes:
    """The MP3 of a voicemail, fetched with the account credentials for a signed-in officer."""
    settings = services.settings
    if not recording.url or not settings.twilio_enabled:
        raise RecordingUnavailable("no recording URL or no Twilio credentials")
    source = recording.url + ".mp3"
    # Credentials only ever go to Twilio (or the configured stand-in for it).
    if not is_twilio_url(source):
        raise RecordingUnavailable("recording URL is not on twilio.com")
    url = rebase_twilio_url(source, settings.twilio_api_base_url)
    auth = (settings.twilio_account_sid, settings.twilio_auth_token)
    async with httpx.AsyncClient(timeout=30.0) as client:
        response = await client.get(url, auth=auth)
    if response.status_code != 200:
        raise RecordingUnavailable(f"Twilio answered {response.status_code}")
    return response.content
