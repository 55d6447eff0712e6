"""An unexpected error becomes a logged traceback and a proper error page, never a bare crash.

The log says where it failed (frames, exception types, the SQL statement) but not the
exception's message, which may quote a parent's words; the page and the log share a short
reference so that staff can tell the maintainer which failure they saw. A lost database
connection is not handled here: bot.web.limits answers it with 503.
"""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from html import escape

from sqlalchemy.exc import StatementError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

WEBHOOK_PREFIXES = ("/telegram/", "/twilio/")
CHAINED_SHOWN = 3
PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 1em auto; padding: 1em">
<main>
<h1>Something went wrong on our side</h1>
<p>Nothing you did caused this, and it has been logged. Please try again in a moment.</p>
<p>If it keeps happening, tell the administrator this reference: <strong>{ref}</strong>.</p>
<p><a href="{back}">Go back</a></p>
</main>
</body>
</html>
"""


def describe(exc: BaseException) -> str:
    """The traceback without messages: exception types, frames and any SQL statement."""
    lines: list[str] = []
    seen: BaseException | None = exc
    for _ in range(CHAINED_SHOWN):
        if seen is None:
            break
        lines.append(f"{type(seen).__module__}.{type(seen).__qualname__}")
        if isinstance(seen, StatementError) and seen.statement:
            lines.append("  while running: " + " ".join(seen.statement.split())[:500])
        lines.extend(
            line.rstrip("\n")
            for line in traceback.StackSummary.extract(
                traceback.walk_tb(seen.__traceback__)
            ).format()
        )
        seen = seen.__cause__ or seen.__context__
    return "\n".join(lines)


def wants_json(scope: Scope) -> bool:
    """Webhooks and API clients get JSON; a person in a browser gets a page."""
    if str(scope.get("path", "")).startswith(WEBHOOK_PREFIXES):
        return True
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return "application/json" in accept and "text/html" not in accept


class ErrorPages:
    """ASGI middleware: log an unexpected error with its traceback and answer 500 with a page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            ref = secrets.token_hex(4)
            log.error(
                "unexpected error %s on %s %s\n%s",
                ref,
                scope.get("method"),
                scope.get("path"),
                describe(exc),
            )
            if started:
                return  # the status line is gone; the server closes the response
            await _respond(send, scope, ref)


async def _respond(send: Send, scope: Scope, ref: str) -> None:
    if wants_json(scope):
        body = json.dumps({"error": "Something went wrong on our side.", "reference": ref})
        kind = b"application/json"
    else:
        back = "/staff" if str(scope.get("path", "")).startswith("/staff") else "/"
        body = PAGE.format(ref=escape(ref), back=back)
        kind = b"text/html; charset=utf-8"
    data = body.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", kind), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
