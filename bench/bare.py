"""The reference: a bare Starlette endpoint that parses the same SMS request and answers the
same shape (TwiML), with no store behind it.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

REPLY = "Thank you. What is your child's age or school year? For example: Year 4, or 15."
CHOICES = "1. Yes\n2. No\nReply 1 or 2."


async def sms(request: Request) -> Response:
    """Read the form as the app does (no signature check: that is part of what is measured)."""
    form = await request.form(max_files=0, max_fields=200)
    if not form.get("MessageSid") or not form.get("From"):
        return Response("a MessageSid and From are required", status_code=400)
    twiml = MessagingResponse()
    twiml.message(f"{REPLY} ({len(str(form.get('Body', '')))})")
    twiml.message(CHOICES)
    return Response(str(twiml), media_type="application/xml")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


app = Starlette(
    routes=[
        Route("/twilio/sms", sms, methods=["POST"]),
        Route("/healthz", healthz),
    ]
)
