"""A fake Telegram Bot API server, plus builders for the updates Telegram posts to us.

Tests drive it through python-telegram-bot's real ``Bot`` (``base_url=f"{url}/bot"``)
so request encoding, error mapping (RetryAfter, Forbidden, InvalidToken) and
``de_json`` parsing are the library's own, not a mock's idea of them.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijk"
BOT_USERNAME = "helpline_test_bot"

# PTB sends every parameter as a form field, JSON-encoding non-strings (ints, bools,
# markups) but leaving str values raw. These are the str-typed fields we must NOT
# json-decode (otherwise a text of "123" or "true" would change type).
_RAW_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "url",
        "secret_token",
        "callback_query_id",
        "parse_mode",
        "ip_address",
        "language_code",
        "inline_message_id",
        "business_connection_id",
        "message_effect_id",
        "description",
        "short_description",
        "name",
    }
)


def _bot_id(token: str) -> int:
    head = token.split(":", 1)[0]
    return int(head) if head.isdigit() else 1


@dataclass(frozen=True)
class Call:
    """One recorded Bot API request (method is the canonical camelCase name)."""

    method: str
    params: dict[str, Any]


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None


class FakeTelegram:
    """In-memory Bot API. ``app`` is the Starlette app to serve with ``LiveServer``.

    Thread-safe: the server runs in a uvicorn thread while the test inspects state.
    """

    _METHODS = (
        "getMe",
        "sendMessage",
        "answerCallbackQuery",
        "editMessageReplyMarkup",
        "setWebhook",
        "deleteWebhook",
        "getWebhookInfo",
        "setMyCommands",
    )

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": _bot_id(token),
            "is_bot": True,
            "first_name": "Helpline",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.webhook: dict[str, Any] = {}
        # What getWebhookInfo reports about deliveries to the webhook (see `webhook_trouble`).
        self.webhook_health: dict[str, Any] = {"pending_update_count": 0}
        self.commands: list[dict[str, Any]] = []
        self._calls: list[Call] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._next_message_id = 1
        self._failures: dict[str, list[_Failure]] = {}
        self._blocked: set[int] = set()
        self._lock = threading.Lock()
        self._dispatch = {m.lower(): (m, getattr(self, f"_m_{m}")) for m in self._METHODS}
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    # ----------------------------------------------------------------- controls
    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 3,
        description: str | None = None,
    ) -> None:
        """Make the next call of ``method`` fail as Telegram would (default: flood 429)."""
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else {400: "Bad Request", 403: "Forbidden", 404: "Not Found"}.get(
                    error_code, "Internal Server Error"
                )
            )
        failure = _Failure(error_code, description, retry_after if error_code == 429 else None)
        with self._lock:
            self._failures.setdefault(method.lower(), []).append(failure)

    def webhook_trouble(
        self, pending: int, error: str | None = None, at: int | None = None
    ) -> None:
        """Make getWebhookInfo report `pending` undelivered updates and, given `error`, the
        last delivery error (at Unix time `at`, default now), as Telegram does when the
        webhook fails."""
        health: dict[str, Any] = {"pending_update_count": pending}
        if error is not None:
            health["last_error_date"] = at if at is not None else int(time.time())
            health["last_error_message"] = error
        with self._lock:
            self.webhook_health = health

    def block(self, chat_id: int) -> None:
        """Simulate the user blocking the bot: sendMessage to them returns 403."""
        with self._lock:
            self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(int(chat_id))

    def calls(self, method: str | None = None) -> list[dict[str, Any]]:
        """Params of every request to ``method`` (all methods if None), oldest first."""
        with self._lock:
            return [
                dict(c.params)
                for c in self._calls
                if method is None or c.method.lower() == method.lower()
            ]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Message objects returned by successful sendMessage calls, oldest first."""
        with self._lock:
            msgs = sorted(self._messages.values(), key=lambda m: m["message_id"])
            return [
                json.loads(json.dumps(m))
                for m in msgs
                if chat_id is None or m["chat"]["id"] == int(chat_id)
            ]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._messages.clear()
            self._failures.clear()
            self._blocked.clear()
            self.webhook = {}
            self.commands = []

    # ------------------------------------------------------------------ HTTP
    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _read_params(request)
        entry = self._dispatch.get(request.path_params["method"].lower())
        if entry is None:
            return _error(404, "Not Found")
        name, handler = entry
        with self._lock:
            self._calls.append(Call(name, params))
            queue = self._failures.get(name.lower())
            failure = queue.pop(0) if queue else None
            if failure is not None:
                return _error(failure.error_code, failure.description, failure.retry_after)
            try:
                result = handler(params)
            except _ApiError as err:
                return _error(err.code, err.description)
        return JSONResponse({"ok": True, "result": result})

    # --------------------------------------------------------------- methods
    # Called with self._lock held.
    def _m_getMe(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = _chat_id(params)
        text = params.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        message_id = self._next_message_id
        self._next_message_id += 1
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "date": int(time.time()),
            "text": text,
        }
        if chat_id <= 0:
            message["chat"]["title"] = "Group"
        if params.get("entities"):
            message["entities"] = params["entities"]
        markup = params.get("reply_markup")
        # Telegram only echoes inline keyboards; reply keyboards are not part of Message.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        return message

    def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise _ApiError(400, "Bad Request: query is too old and response timeout expired")
        return True

    def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        if params.get("inline_message_id"):
            return True
        chat_id = _chat_id(params)
        key = (chat_id, int(params.get("message_id", 0)))
        message = self._messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup")
        new = markup if isinstance(markup, dict) and markup.get("inline_keyboard") else None
        if new == message.get("reply_markup"):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        if new is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = new
        message["edit_date"] = int(time.time())
        return message

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        url = params.get("url", "")
        if url and not url.startswith("https://"):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "drop_pending_updates": bool(params.get("drop_pending_updates", False)),
            "max_connections": params.get("max_connections"),
        }
        return True

    def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:
        info: dict[str, Any] = {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            **self.webhook_health,
        }
        if self.webhook.get("url"):
            info["max_connections"] = self.webhook.get("max_connections") or 40
            info["ip_address"] = "127.0.0.1"
            if self.webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    def _m_setMyCommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse commands JSON object")
        self.commands = commands
        return True


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str, retry_after: int | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return JSONResponse(body, status_code=code)


def _chat_id(params: dict[str, Any]) -> int:
    try:
        return int(params["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise _ApiError(400, "Bad Request: chat not found") from None


async def _read_params(request: Request) -> dict[str, Any]:
    """Accept JSON bodies, urlencoded/multipart forms and query strings, like Telegram."""
    params: dict[str, Any] = dict(request.query_params)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        body = await request.body()
        if body:
            params.update(json.loads(body))
        return params
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        async with request.form() as form:
            for key, value in form.items():
                if isinstance(value, str):
                    params[key] = value
    for key, value in list(params.items()):
        if isinstance(value, str) and key not in _RAW_STRING_FIELDS:
            with contextlib.suppress(ValueError):  # e.g. chat_id="@channel" stays a str
                params[key] = json.loads(value)
    return params


# ------------------------------------------------------------ inbound updates
def _user(chat_id: int, first_name: str, language_code: str | None) -> dict[str, Any]:
    user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": first_name}
    if language_code is not None:
        user["language_code"] = language_code
    return user


def _private_chat(chat_id: int, first_name: str) -> dict[str, Any]:
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def update_message(
    update_id: int,
    chat_id: int,
    text: str,
    language_code: str | None = "en",
    first_name: str = "Sam",
    *,
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A private text message update as Telegram POSTs it to the webhook.

    A leading ``/command`` gets the ``bot_command`` entity Telegram adds, which PTB's
    CommandHandler relies on.
    """
    message: dict[str, Any] = {
        "message_id": message_id if message_id is not None else update_id,
        "from": _user(chat_id, first_name, language_code),
        "chat": _private_chat(chat_id, first_name),
        "date": date if date is not None else int(time.time()),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split(maxsplit=1)[0]
        message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    return {"update_id": update_id, "message": message}


def update_callback_query(
    update_id: int,
    chat_id: int,
    data: str,
    message_id: int,
    *,
    language_code: str | None = "en",
    first_name: str = "Sam",
    message_text: str = "Please choose:",
    bot_id: int = _bot_id(DEFAULT_TOKEN),
    query_id: str | None = None,
) -> dict[str, Any]:
    """An inline-button press on bot message ``message_id`` carrying ``data``."""
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id if query_id is not None else f"{chat_id}{update_id}",
            "from": _user(chat_id, first_name, language_code),
            "message": {
                "message_id": message_id,
                "from": {
                    "id": bot_id,
                    "is_bot": True,
                    "first_name": "Helpline",
                    "username": BOT_USERNAME,
                },
                "chat": _private_chat(chat_id, first_name),
                "date": int(time.time()),
                "text": message_text,
            },
            "chat_instance": f"-{abs(chat_id) * 7919}",
            "data": data,
        },
    }


def update_contact(
    update_id: int,
    chat_id: int,
    phone_number: str,
    *,
    first_name: str = "Sam",
    language_code: str | None = "en",
    user_id: int | None = None,
) -> dict[str, Any]:
    """A shared contact (e.g. via a request_contact button); ``user_id`` defaults to sender.

    Telegram sends the number as the user has it, often without a leading ``+``.
    """
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "from": _user(chat_id, first_name, language_code),
            "chat": _private_chat(chat_id, first_name),
            "date": int(time.time()),
            "contact": {
                "phone_number": phone_number,
                "first_name": first_name,
                "user_id": user_id if user_id is not None else chat_id,
            },
        },
    }
