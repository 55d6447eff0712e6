"""A fake Twilio REST API, plus signed inbound-webhook builders.

Tests reach it through twilio's real ``Client`` (via ``bot.channels.twilio.client``), so form
encoding, Basic auth and ``TwilioRestException`` mapping are the library's own. The
webhook builders use the field names Twilio really posts and twilio's own
``RequestValidator`` to sign, so signature checks in our app are tested for real.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.twilio.client import make_twilio_client

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "f" * 32
API_VERSION = "2010-04-01"
# Smallest plausible MP3: an ID3v2 header then one silent MPEG-1 Layer III frame header.
FAKE_MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 413


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two-letter prefix + 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def _rfc2822(dt: datetime | None = None) -> str:
    return format_datetime(dt or datetime.now(UTC), usegmt=True)


def _segments(body: str) -> str:
    """GSM-7 segment count: 160 chars fit one SMS, longer ones split into 153s."""
    return "1" if len(body) <= 160 else str(-(-len(body) // 153))


def _error(status: int, code: int, message: str) -> JSONResponse:
    """Twilio's legacy REST error shape, which twilio maps to ``TwilioRestException``."""
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers={"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None,
    )


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    resource: str | None


class FakeTwilio:
    """In-memory Twilio REST API for Messages and Recordings. Serve ``app``."""

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        require_media_auth: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # Twilio's "enforce HTTP auth on media URLs" setting; we want it on in production.
        self.require_media_auth = require_media_auth
        self.requests: list[dict[str, Any]] = []
        self._messages: dict[str, dict[str, Any]] = {}
        self._message_params: dict[str, dict[str, Any]] = {}
        self._recordings: dict[str, tuple[dict[str, Any], bytes]] = {}
        self._calls: dict[str, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._lock = threading.Lock()
        base = "/2010-04-01/Accounts/{account_sid}"
        self.app = Starlette(
            routes=[
                Route(f"{base}/Messages.json", self._create_message, methods=["POST"]),
                Route(f"{base}/Calls.json", self._create_call, methods=["POST"]),
                Route(f"{base}/Messages/{{sid}}.json", self._fetch_message, methods=["GET"]),
                Route(f"{base}/Recordings/{{sid}}.json", self._fetch_recording, methods=["GET"]),
                Route(f"{base}/Recordings/{{sid}}.mp3", self._recording_media, methods=["GET"]),
                Route(f"{base}/Recordings/{{sid}}", self._recording_media, methods=["GET"]),
            ]
        )

    # ----------------------------------------------------------------- controls
    def client(self, base_url: str) -> Client:
        """A real twilio ``Client`` with this fake's credentials, pointed at ``base_url``."""
        return twilio_client(base_url, self.account_sid, self.auth_token)

    def fail_next(
        self,
        status: int = 400,
        code: int = 21610,
        message: str = "Attempt to send to unsubscribed recipient",
        *,
        resource: str | None = "Messages",
    ) -> None:
        """Fail the next request to ``resource`` ("Messages", "Recordings"; None = any)."""
        with self._lock:
            self._failures.append(_Failure(status, code, message, resource))

    def sent_messages(self) -> list[dict[str, Any]]:
        """Every created message: the resource JSON plus ``params`` (the raw form posted)."""
        with self._lock:
            return [
                {**msg, "params": dict(self._message_params[sid])}
                for sid, msg in self._messages.items()
            ]

    def add_recording(
        self,
        call_sid: str,
        *,
        recording_sid: str | None = None,
        duration: int = 7,
        audio: bytes = FAKE_MP3,
    ) -> str:
        """Register a completed recording so its .json/.mp3 can be fetched; returns the SID."""
        sid = recording_sid or new_sid("RE")
        now = _rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{sid}.json"
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": call_sid,
            "conference_sid": None,
            "channels": 1,
            "date_created": now,
            "date_updated": now,
            "start_time": now,
            "duration": str(duration),
            "encryption_details": None,
            "error_code": None,
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "source": "RecordVerb",
            "status": "completed",
            "uri": uri,
            "media_url": f"https://api.twilio.com{uri[: -len('.json')]}",
            "subresource_uris": {
                "add_on_results": uri.replace(".json", "/AddOnResults.json"),
                "transcriptions": uri.replace(".json", "/Transcriptions.json"),
            },
        }
        with self._lock:
            self._recordings[sid] = (resource, audio)
        return sid

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._messages.clear()
            self._message_params.clear()
            self._recordings.clear()
            self._failures.clear()

    # ------------------------------------------------------------------ HTTP
    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return (
            secrets.compare_digest(user, self.account_sid)
            and secrets.compare_digest(password, self.auth_token)
            and request.path_params.get("account_sid") == self.account_sid
        )

    def _pop_failure(self, resource: str) -> JSONResponse | None:
        with self._lock:
            for i, f in enumerate(self._failures):
                if f.resource is None or f.resource == resource:
                    del self._failures[i]
                    return _error(f.status, f.code, f.message)
        return None

    def _record(self, request: Request, params: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(
                {"method": request.method, "path": request.url.path, "params": params}
            )

    async def _create_message(self, request: Request) -> Response:
        async with request.form() as form:
            params: dict[str, Any] = {}
            for key in form:
                values = [v for v in form.getlist(key) if isinstance(v, str)]
                params[key] = values if key == "MediaUrl" else values[-1]
        self._record(request, params)
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if (failure := self._pop_failure("Messages")) is not None:
            return failure
        if not params.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not params.get("From") and not params.get("MessagingServiceSid"):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not (params.get("Body") or params.get("ContentSid") or params.get("MediaUrl")):
            return _error(400, 21602, "Message body is required.")
        sid = new_sid("SM")
        now = _rfc2822()
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{sid}.json"
        body = params.get("Body", "")
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": params.get("From"),
            "messaging_service_sid": params.get("MessagingServiceSid"),
            "num_media": str(len(params.get("MediaUrl", []))),
            "num_segments": _segments(body),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if params.get("MessagingServiceSid") else "queued",
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": params["To"],
            "uri": uri,
        }
        with self._lock:
            self._messages[sid] = resource
            self._message_params[sid] = params
        return JSONResponse(resource, status_code=201)

    def calls_made(self) -> list[dict[str, Any]]:
        """Every call placed: the resource JSON plus ``params`` (the raw form posted)."""
        with self._lock:
            return [dict(call) for call in self._calls.values()]

    async def _create_call(self, request: Request) -> Response:
        """Calls.create as Twilio answers it: queued, with the URL Twilio will fetch on answer.
        `tests/fakes/twilio_calls.play_call` then plays the call: answer, <Dial>, status."""
        async with request.form() as form:
            params: dict[str, Any] = {}
            for key in form:
                values = [v for v in form.getlist(key) if isinstance(v, str)]
                params[key] = values if key == "StatusCallbackEvent" else values[-1]
        self._record(request, params)
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if (failure := self._pop_failure("Calls")) is not None:
            return failure
        if not params.get("To"):
            return _error(400, 21201, "No 'To' number is specified")
        if not params.get("From"):
            return _error(400, 21213, "No 'From' number is specified")
        if not (params.get("Url") or params.get("Twiml") or params.get("ApplicationSid")):
            return _error(400, 21205, "Url parameter is required.")
        sid = new_sid("CA")
        now = _rfc2822()
        resource = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "from": params["From"],
            "sid": sid,
            "status": "queued",
            "to": params["To"],
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{sid}.json",
            "params": params,
        }
        with self._lock:
            self._calls[sid] = resource
        return JSONResponse({k: v for k, v in resource.items() if k != "params"}, status_code=201)

    async def _fetch_message(self, request: Request) -> Response:
        self._record(request, dict(request.query_params))
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if (failure := self._pop_failure("Messages")) is not None:
            return failure
        with self._lock:
            resource = self._messages.get(request.path_params["sid"])
        if resource is None:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        return JSONResponse(resource)

    async def _fetch_recording(self, request: Request) -> Response:
        self._record(request, dict(request.query_params))
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if (failure := self._pop_failure("Recordings")) is not None:
            return failure
        with self._lock:
            entry = self._recordings.get(request.path_params["sid"])
        if entry is None:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        return JSONResponse(entry[0])

    async def _recording_media(self, request: Request) -> Response:
        self._record(request, dict(request.query_params))
        if self.require_media_auth and not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if (failure := self._pop_failure("Recordings")) is not None:
            return failure
        with self._lock:
            entry = self._recordings.get(request.path_params["sid"])
        if entry is None:
            return _error(404, 20404, f"The requested resource {request.url.path} was not found")
        # Twilio serves WAV without an extension and MP3 for ``.mp3``; we only hold MP3.
        return Response(entry[1], media_type="audio/mpeg")


def twilio_client(base_url: str, account_sid: str, auth_token: str) -> Client:
    """The real twilio ``Client`` pointed at a fake, via the same code production uses."""
    return make_twilio_client(account_sid, auth_token, base_url=base_url)


# --------------------------------------------------------------- webhooks
def signed_post_headers(url: str, params: dict[str, str], auth_token: str) -> dict[str, str]:
    """Headers Twilio sends with a form webhook, signed for ``url`` + ``params``."""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params),
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }


def _country(number: str) -> str:
    bare = number.removeprefix("whatsapp:")
    return "GB" if bare.startswith("+44") else "US" if bare.startswith("+1") else ""


def sms_form(
    message_sid: str,
    from_: str,
    to: str,
    body: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    messaging_service_sid: str | None = None,
) -> dict[str, str]:
    """The form Twilio POSTs to a Messaging webhook for an inbound SMS."""
    form = {
        "ToCountry": _country(to),
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country(from_),
        "To": to,
        "ToZip": "",
        "NumSegments": _segments(body),
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": from_,
        "ApiVersion": API_VERSION,
    }
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    return form


def whatsapp_form(
    message_sid: str,
    from_: str,
    to: str,
    body: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    profile_name: str = "Sam",
    button_payload: str | None = None,
) -> dict[str, str]:
    """The form Twilio POSTs for an inbound WhatsApp message.

    ``from_``/``to`` may be given bare (``+44...``); the ``whatsapp:`` prefix is added.
    ``button_payload`` simulates a quick-reply tap (ButtonText/ButtonPayload, type button).
    """
    wa_from = from_ if from_.startswith("whatsapp:") else f"whatsapp:{from_}"
    wa_to = to if to.startswith("whatsapp:") else f"whatsapp:{to}"
    form = {
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ProfileName": profile_name,
        "MessageType": "text",
        "SmsSid": message_sid,
        "WaId": wa_from.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "Body": body,
        "To": wa_to,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": message_sid,
        "AccountSid": account_sid,
        "From": wa_from,
        "ApiVersion": API_VERSION,
    }
    if button_payload is not None:
        form.update(MessageType="button", ButtonText=body, ButtonPayload=button_payload)
    return form


def voice_form(
    call_sid: str,
    from_: str,
    to: str,
    call_status: str = "ringing",
    digits: str | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    speech_result: str | None = None,
    confidence: float = 0.9,
) -> dict[str, str]:
    """The form Twilio POSTs to a Voice webhook (incoming call or a <Gather> result)."""
    form = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": call_sid,
        "CallStatus": call_status,
        "Called": to,
        "CalledCountry": _country(to),
        "Caller": from_,
        "CallerCountry": _country(from_),
        "Direction": "inbound",
        "From": from_,
        "FromCountry": _country(from_),
        "To": to,
        "ToCountry": _country(to),
    }
    if digits is not None:
        form["Digits"] = digits
        form["FinishedOnKey"] = ""
    if speech_result is not None:
        form["SpeechResult"] = speech_result
        form["Confidence"] = f"{confidence:.8f}"
    return form


def recording_status_form(
    call_sid: str,
    recording_sid: str,
    duration: int,
    url: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    status: str = "completed",
) -> dict[str, str]:
    """The form Twilio POSTs to a recordingStatusCallback.

    ``url`` is RecordingUrl as Twilio sends it: no extension (append ``.mp3``/``.json``).
    """
    return {
        "AccountSid": account_sid,
        "CallSid": call_sid,
        "RecordingSid": recording_sid,
        "RecordingUrl": url,
        "RecordingStatus": status,
        "RecordingDuration": str(duration),
        "RecordingChannels": "1",
        "RecordingStartTime": _rfc2822(),
        "RecordingSource": "RecordVerb",
        "RecordingTrack": "both",
        "ErrorCode": "0",
    }


def message_status_form(
    message_sid: str,
    message_status: str,
    from_: str,
    to: str,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    *,
    error_code: int | None = None,
) -> dict[str, str]:
    """The form Twilio POSTs to a message StatusCallback (sent/delivered/failed...)."""
    form = {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "From": from_,
        "To": to,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "MessageStatus": message_status,
        "SmsStatus": message_status,
    }
    if error_code is not None:
        form["ErrorCode"] = str(error_code)
    return form
