"""The web chat at /chat: a small accessible page, the conversation kept by a signed cookie.

The cookie holds a random token signed by the server, never a name or number; the conversation
lives in the store under a keyed hash of that token, so a page reload (or a server restart)
shows it again and a copy of the store opens no conversation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from bot.channels.webchat_guard import HEADERS, ChatTokens, Limits, chat_address
from bot.conversation.helpline import Helpline
from bot.conversation.router import Inbound
from bot.core.i18n import office_hours, text_direction
from bot.core.keys import session_secret
from bot.core.settings import trial_banner
from flows.engine import N_, Reply
from storage.crypto import lookup_hash
from storage.models import Contact, Conversation, TranscriptLine

HERE = Path(__file__).parent
COOKIE = "helpline_chat"
MAX_TEXT = 4096
MAX_BODY = 16 * 1024
templates = Jinja2Templates(directory=HERE / "templates")


def _with_cookie(response: Response, value: str, secure: bool) -> Response:
    response.set_cookie(
        COOKIE,
        value,
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/chat",
    )
    return response


def _error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _guarded(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


async def _language(services: Helpline, address: str) -> str:
    async with services.sessions() as session:
        contact = await session.scalar(
            select(Contact).where(
                Contact.channel == "webchat", Contact.address_hash == lookup_hash(address)
            )
        )
        if contact is None:
            return "en"
        conversation = await session.scalar(
            select(Conversation).where(Conversation.contact_id == contact.id)
        )
        if conversation is not None and conversation.state.get("language"):
            return str(conversation.state["language"])
        return contact.language or "en"


# The page's own words, shown in the conversation's language once it is chosen.
PAGE_WORDS = {
    "message": N_("Your message"),
    "send": N_("Send"),
    "danger": N_("If a child is in danger now, call 999."),
    "title": N_("Chat with {service}"),
    "noscript": N_("This chat needs JavaScript. You can also ring us on {phone}, {hours}."),
}


def page_words(services: Helpline, language: str) -> dict[str, str]:
    translate, settings = services.catalogs.gettext(language), services.settings
    hours = office_hours(language, settings.opens, settings.closes, services.clock.weekdays)
    params = {"service": settings.service_name, "phone": settings.service_phone, "hours": hours}
    return {key: translate(msgid).format(**params) for key, msgid in PAGE_WORDS.items()}


def _render(reply: Reply, language: str) -> dict[str, Any]:
    return {**reply.as_dict(), "dir": text_direction(language), "lang": language}


def routes(services: Helpline) -> list[Route | Mount]:
    secure = services.settings.public_url.startswith("https://")
    tokens, limits = ChatTokens(session_secret(services.settings)), Limits()

    def _address(request: Request) -> str | None:
        """The store's key for this chat, from a cookie the server signed (else None)."""
        token = tokens.check(request.cookies.get(COOKIE))
        return chat_address(token) if token else None

    async def page(request: Request) -> Response:
        address = _address(request)
        language = await _language(services, address) if address else "en"
        context = {
            "service": services.settings.service_name,
            "phone": services.settings.service_phone,
            "page": page_words(services, language),
            "lang": language,
            "dir": text_direction(language),
            "trial_banner": trial_banner(services.settings),
        }
        response = templates.TemplateResponse(request, "chat.html", context)
        if tokens.check(request.cookies.get(COOKIE)) is None:
            _with_cookie(response, tokens.issue(), secure)
        return _guarded(response)

    async def history(request: Request) -> Response:
        address = _address(request)
        if address is None:
            return _guarded(JSONResponse({"lines": [], "dir": "ltr", "lang": "en"}))
        language = await _language(services, address)
        async with services.sessions() as session:
            contact_id = await session.scalar(
                select(Contact.id).where(
                    Contact.channel == "webchat", Contact.address_hash == lookup_hash(address)
                )
            )
            lines = (
                await session.scalars(
                    select(TranscriptLine)
                    .where(TranscriptLine.contact_id == contact_id)
                    .order_by(TranscriptLine.id)
                )
            ).all()
            conversation = await session.scalar(
                select(Conversation).where(Conversation.contact_id == contact_id)
            )
        choices: list[str] = []
        if conversation is not None:
            choices = list(
                services.router.engine(dict(conversation.state))
                .reprompt(conversation.state)
                .choices
            )
        payload = [{"direction": line.direction, "text": line.text} for line in lines]
        return _guarded(
            JSONResponse(
                {
                    "lines": payload,
                    "choices": choices,
                    "dir": text_direction(language),
                    "lang": language,
                    "page": page_words(services, language),
                }
            )
        )

    async def message(request: Request) -> Response:
        return _guarded(await _message(request))

    async def _message(request: Request) -> Response:
        token = tokens.check(request.cookies.get(COOKIE))
        if token is None:
            return _error("Please reload the page to start a chat.", 400)
        client = request.client.host if request.client else "unknown"
        if not limits.allow(token, client, services.now()):
            return _error("That is a lot of messages at once: please wait a minute.", 429)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _error("Send the message as JSON.", 415)
        body = await request.body()
        if len(body) > MAX_BODY:
            return _error("That message is too long.", 413)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _error("That message could not be read.", 400)
        if not isinstance(data, dict):
            return _error("That message could not be read.", 400)
        text, message_id = data.get("text"), data.get("id")
        if (
            not isinstance(text, str)
            or not isinstance(message_id, str)
            or not 1 <= len(message_id) <= 64
        ):
            return _error("That message could not be read.", 400)
        if len(text) > MAX_TEXT:
            return _error("That message is too long: please send up to 4,096 characters.", 413)
        # Lone surrogates and NULs cannot be stored: keep everything else exactly as written.
        text = text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
        message_id = message_id.encode("utf-8", "replace").decode("utf-8")
        address = chat_address(token)
        inbound = Inbound(
            channel="webchat",
            address=address,
            provider_id=f"{address[:32]}:{message_id}",  # the keyed hash, never the token
            text=text,
            received_at=services.now(),
        )
        processed = await services.router.deliver_message(inbound)
        limits.taken(token, client, services.now())
        language = processed.language or "en"
        return JSONResponse(
            {
                "replies": [_render(r, language) for r in processed.replies],
                "page": page_words(services, language),
                "dir": text_direction(language),
            }
        )

    return [
        Route("/chat", page, methods=["GET"]),
        Route("/chat/history", history, methods=["GET"]),
        Route("/chat/messages", message, methods=["POST"]),
        Mount("/chat/static", StaticFiles(directory=HERE / "static"), name="chat-static"),
    ]
