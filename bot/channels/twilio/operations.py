"""Twilio's safety nets: `POST /twilio/fallback`, where Twilio posts an SMS when /twilio/sms
failed (stored and answered by the very same code), and `POST /twilio/errors`, the debugger's
webhook, which tells the admins. Both are signed like every Twilio request."""

from __future__ import annotations

import json
import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.channels.twilio import sms
from bot.conversation.helpline import Helpline
from bot.domain.operations import alert_admins

CODE = re.compile(r"^\d{3,6}$")
LEVELS = {"error": "Error", "warning": "Warning"}


def inbound_endpoint(services: Helpline) -> Route:
    """The main SMS webhook's route: the fallback answers through the same function, so a
    message Twilio falls back with is de-duplicated, stored and replied to exactly the same."""
    for route in sms.routes(services):
        if route.path == "/twilio/sms":
            return route
    raise LookupError("bot.channels.twilio.sms has no /twilio/sms route")


def error_code(payload: str) -> str:
    """The Twilio error code of a debugger event; the rest of the payload (which may echo a
    parent's number or words) is never read."""
    try:
        code = str(json.loads(payload).get("error_code") or "")
    except (ValueError, AttributeError):
        return "unknown"
    return code if CODE.match(code) else "unknown"


def routes(services: Helpline) -> list[Route]:
    settings = services.settings
    main = inbound_endpoint(services)

    async def errors(request: Request) -> Response:
        form = await sms.signed_form(request, settings)
        if form is None:
            return Response("forbidden", status_code=403, media_type="text/plain")
        if str(form.get("AccountSid") or "") != settings.twilio_account_sid:
            return Response("not this account", status_code=400, media_type="text/plain")
        level = LEVELS.get(str(form.get("Level") or "").casefold(), "Error")
        code = error_code(str(form.get("Payload") or ""))
        lines = [
            f"Twilio reported {level.lower()} {code} on this service's account.",
            f"What it means: https://www.twilio.com/docs/api/errors/{code}",
            "Read the event in the Twilio console (Monitor, Logs, Errors).",
        ]
        async with services.sessions.begin() as session:
            await alert_admins(
                session,
                settings,
                f"ops:twilio_{code}",
                f"Twilio {level} {code}",
                lines,
                services.now(),
            )
        return Response(status_code=204)

    return [
        Route("/twilio/fallback", main.endpoint, methods=["POST"]),
        Route("/twilio/errors", errors, methods=["POST"]),
    ]
