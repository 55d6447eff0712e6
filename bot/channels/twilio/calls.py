"""Click-to-call through the helpline's number: Twilio rings the officer first; when they answer,
signed TwiML names the case and <Dial>s the parent with the service's number as caller ID, so
the parent never sees the officer's own number. The parent leg's result logs the attempt.

Calls are not recorded (no `record` attribute anywhere): a service that wants recording must
tell parents first, and that is a decision for its data protection officer, not a default.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from bot.channels.twilio.call_base import spaced
from bot.channels.twilio.client import make_twilio_client
from bot.channels.twilio.sms import signed_form
from bot.conversation.helpline import Helpline
from bot.core.settings import Settings
from bot.domain import audit, reach
from storage.models import Enquiry, OfficerCall, Staff

log = logging.getLogger(__name__)
RING_OFFICER_SECONDS = 25
RING_PARENT_SECONDS = 30
VOICE = "Polly.Amy"
LANGUAGE = "en-GB"


def _url(settings: Settings, call_id: int, step: str) -> str:
    return f"{settings.public_url.rstrip('/')}/twilio/officer-call/{call_id}/{step}"


def twilio_client(settings: Settings) -> Client:
    return make_twilio_client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        base_url=settings.twilio_api_base_url,
    )


async def start_call(
    session: AsyncSession,
    settings: Settings,
    client: Client,
    enquiry: Enquiry,
    staff: Staff,
    now: datetime,
) -> OfficerCall:
    """Ask Twilio to ring the officer; the rest happens in the webhooks below."""
    reason = reach.call_closed(settings, enquiry, staff)
    if reason is not None:
        raise reach.ReachError(reason)
    assert staff.phone is not None
    call = OfficerCall(
        enquiry_id=enquiry.id, staff_id=staff.id, status="queued", created_at=now, updated_at=now
    )
    session.add(call)
    await session.flush()
    params = {
        "to": staff.phone,
        "from_": settings.twilio_phone_number,
        "url": _url(settings, call.id, "connect"),
        "method": "POST",
        "timeout": RING_OFFICER_SECONDS,
        "status_callback": _url(settings, call.id, "status"),
        "status_callback_method": "POST",
        "status_callback_event": ["answered", "completed"],
    }
    try:
        created = await asyncio.to_thread(lambda: client.calls.create(**params))
    except (TwilioRestException, OSError) as exc:
        call.status = "failed"
        log.warning("click-to-call was refused: %s", type(exc).__name__)
        message = "Twilio could not place the call; try again, or ring by hand."
        raise reach.ReachError(message) from None
    call.call_sid = str(created.sid)
    audit.record(session, staff, "call parent", now, enquiry_id=enquiry.id)
    return call


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), media_type="application/xml")


def routes(services: Helpline) -> list[Route]:
    settings = services.settings
    forbidden = Response("forbidden", status_code=403, media_type="text/plain")

    async def _call(session: AsyncSession, request: Request) -> OfficerCall | None:
        raw = request.path_params["call_id"]
        return await session.get(OfficerCall, int(raw)) if raw.isdigit() else None

    async def connect(request: Request) -> Response:
        """The officer answered: say which case, then ring the parent from the service's number."""
        form = await signed_form(request, settings)
        if form is None:
            return forbidden
        response = VoiceResponse()
        async with services.sessions.begin() as session:
            call = await _call(session, request)
            enquiry = await session.get(Enquiry, call.enquiry_id) if call else None
            if call is None or enquiry is None or not enquiry.callback_phone:
                response.say("This case has no number to call.", voice=VOICE, language=LANGUAGE)
                response.hangup()
                return _twiml(response)
            call.status, call.updated_at = "in-progress", services.now()
            response.say(
                f"Connecting you to the parent for {spaced(enquiry.reference)}.",
                voice=VOICE,
                language=LANGUAGE,
            )
            dial = response.dial(
                caller_id=settings.twilio_phone_number,
                action=_url(settings, call.id, "dialled"),
                method="POST",
                timeout=RING_PARENT_SECONDS,
            )
            dial.number(enquiry.callback_phone)
        return _twiml(response)

    async def dialled(request: Request) -> Response:
        """The parent's leg ended: its status and length become the attempt (once)."""
        form = await signed_form(request, settings)
        if form is None:
            return forbidden
        status = str(form.get("DialCallStatus") or "")
        raw_seconds = str(form.get("DialCallDuration") or "0")
        seconds = int(raw_seconds) if raw_seconds.isdigit() else 0
        async with services.sessions.begin() as session:
            call = await _call(session, request)
            if call is not None:
                await reach.call_outcome(
                    session, services.clock, call, status, seconds, services.now()
                )
        response = VoiceResponse()
        response.say(
            "The call has ended and is logged on the case.", voice=VOICE, language=LANGUAGE
        )
        response.hangup()
        return _twiml(response)

    async def status(request: Request) -> Response:
        """The officer's own leg: ringing, answered, completed, or never answered."""
        form = await signed_form(request, settings)
        if form is None:
            return forbidden
        async with services.sessions.begin() as session:
            call = await _call(session, request)
            state = str(form.get("CallStatus") or "")[:16]
            if call is not None and state:
                call.status, call.updated_at = state, services.now()
        return Response(status_code=204)

    base = "/twilio/officer-call/{call_id}"
    return [
        Route(f"{base}/connect", connect, methods=["POST"]),
        Route(f"{base}/dialled", dialled, methods=["POST"]),
        Route(f"{base}/status", status, methods=["POST"]),
    ]
