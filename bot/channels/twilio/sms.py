"""SMS and WhatsApp through Twilio: `POST /twilio/sms` answers in TwiML, `/twilio/status` tracks.

Every request is checked against Twilio's signature for HELPLINE_PUBLIC_URL + path (the URL
Twilio was given, whatever proxy sits in front), so forgeries get 403 before anything is written.
Replies to an inbound message ride back in the same response, one <Message> per text, each within
two SMS segments; a repeated MessageSid gets the same replies again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import update
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twilio import segments
from bot.channels.twilio.client import signed_by_twilio
from bot.conversation.helpline import Helpline
from bot.conversation.router import Inbound
from bot.core.settings import Settings
from bot.domain.reach_flags import on_twilio_status
from flows.engine import N_, Reply
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 4096
WHATSAPP_MAX_CHARS = 1600
REPLY_FEW = N_("Reply {numbers} or {last}.")
REPLY_MANY = N_("Reply with a number from 1 to {last}.")
# Twilio's MessageStatus, as the outbox keeps it; "sent" never overwrites a later state.
DELIVERY = {"delivered": "delivered", "read": "delivered", "undelivered": "undelivered"}
DELIVERY |= {"failed": "failed"}


def render(reply: Reply, gettext: Callable[[str], str], channel: str = "sms") -> list[str]:
    """A reply as texts: numbered choices and "Reply 1, 2 or 3" (rich replies degrade)."""
    lines = [reply.numbered()]
    count = len(reply.choices)
    if count > 3:
        lines.append(gettext(REPLY_MANY).format(last=count))
    elif count > 1:
        numbers = ", ".join(str(n) for n in range(1, count))
        lines.append(gettext(REPLY_FEW).format(numbers=numbers, last=count))
    text = "\n".join(lines)
    if channel == "whatsapp":
        return segments.split(text, max_chars=WHATSAPP_MAX_CHARS)
    return segments.split(segments.plain(text))


def twiml(texts: list[str]) -> Response:
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return Response(str(response), media_type="application/xml")


async def signed_form(request: Request, settings: Settings) -> FormData | None:
    """The posted form, or None when Twilio's signature does not match our public URL."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        return None
    if not settings.twilio_auth_token or not request.headers.get("x-twilio-signature"):
        return None  # forged or misconfigured: not worth reading the body
    try:
        form = await request.form(max_files=0, max_fields=200)
    except Exception:
        return None
    return form if signed_by_twilio(request, form, settings) else None


def routes(services: Helpline) -> list[Route]:
    settings = services.settings
    router = services.router
    forbidden = Response("forbidden", status_code=403, media_type="text/plain")

    async def inbound(request: Request) -> Response:
        form = await signed_form(request, settings)
        if form is None:
            return forbidden
        sender = str(form.get("From") or "")
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        channel = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        address = sender.removeprefix("whatsapp:")
        if not sid or not address or len(sid) > 128 or len(address) > 64:
            return Response("a MessageSid and From are required", status_code=400)
        message = Inbound(
            channel=channel,
            address=address,
            provider_id=sid,
            text=str(form.get("Body") or "")[:MAX_BODY_CHARS],
            received_at=services.now(),
            known_phone=address,  # checked only when a conversation begins (turn.new_state)
        )
        try:
            # Records the message first; a redelivery gets the replies the first delivery
            # stored (its answer may never have reached Twilio), or is processed now.
            done = await router.deliver_message(message)
        except Exception as exc:  # no answer to give: Twilio (or its sender) tries again
            log.error("processing a %s message failed: %s", channel, type(exc).__name__)
            return Response(
                "try again", status_code=503, headers={"Retry-After": "1"}, media_type="text/plain"
            )
        gettext = services.catalogs.gettext(done.language)
        return twiml([t for reply in done.replies for t in render(reply, gettext, channel)])

    async def status(request: Request) -> Response:
        form = await signed_form(request, settings)
        if form is None:
            return forbidden
        sid = str(form.get("MessageSid") or "")
        state = DELIVERY.get(str(form.get("MessageStatus") or ""))
        if sid and state is not None:
            error = str(form.get("ErrorCode") or "") or None
            async with services.sessions.begin() as session:
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.provider_message_id == sid)
                    .where(OutboxMessage.status.in_(("sent", "sending", "undelivered")))
                    .values(status=state, last_error=f"twilio {error}" if error else None)
                )
                # An officer's text that failed flags the case; a delivered one clears it.
                await on_twilio_status(
                    session, settings, services.clock, sid, state, services.now()
                )
        return Response(status_code=204)

    return [
        Route("/twilio/sms", inbound, methods=["POST"]),
        Route("/twilio/status", status, methods=["POST"]),
    ]
