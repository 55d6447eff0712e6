"""Guards in front of every route: a body-size cap, and 503 when the store is really away.

A webhook body is small; a huge one is refused with 413 as soon as it is known to be too big
(from Content-Length, or by counting streamed chunks), so it is never buffered whole. When
the database cannot be reached, providers get 503 with Retry-After and deliver again later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

KIB = 1024
DEFAULT_LIMITS: Mapping[str, int] = {
    "/telegram/": 64 * KIB,
    "/twilio/": 64 * KIB,
    "/chat/": 64 * KIB,
    "/staff/": 256 * KIB,
}
FALLBACK_LIMIT = 1024 * KIB
RETRY_AFTER_SECONDS = 5


class BodyTooLarge(HTTPException):
    """Raised inside `receive` once a streamed body passes its path's limit (a 413 anywhere)."""

    def __init__(self) -> None:
        super().__init__(413, "The request body is too large.")


class BodyLimit:
    """ASGI middleware: 413 for a request body over the limit of its path prefix."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Mapping[str, int] = DEFAULT_LIMITS,
        fallback: int = FALLBACK_LIMIT,
    ) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))
        self.fallback = fallback

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix) or path == prefix.rstrip("/"):
                return limit
        return self.fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                await _plain(send, 400, b"Content-Length is not a number.")
                return
            if too_big:
                await _plain(send, 413, b"The request body is too large.")
                return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await _plain(send, 413, b"The request body is too large.")


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# SQLite reports mistakes in the SQL itself as OperationalError too: those are bugs, not outages.
SQL_MISTAKES = (
    "no such table",
    "no such column",
    "no such function",
    "already exists",
    "syntax error",
    "has no column",
)


def lost_connection(exc: BaseException) -> bool:
    """Connection-level failures only: a bug in a query must still surface as a bug."""
    if isinstance(exc, OperationalError) and any(
        mistake in str(exc.orig).casefold() for mistake in SQL_MISTAKES
    ):
        return False
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | OSError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        cause: BaseException | None = exc.orig
        while cause is not None:  # asyncpg: "connection was closed in the middle of operation"
            if isinstance(cause, OSError) or "Connection" in type(cause).__name__:
                return True
            cause = cause.__cause__
    return False


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """The store is unreachable: ask the provider (or the chat page) to try again shortly.

    Any other database error is a bug: it goes on to bot.web.errors, which logs it and shows
    an error page, so that a 503 never hides the cause.
    """
    if not lost_connection(exc):
        raise exc
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return JSONResponse(
        {"error": "The service is busy. Please try again in a moment."},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


EXCEPTION_HANDLERS = {
    DBAPIError: database_unavailable,
    PoolTimeout: database_unavailable,
    OSError: database_unavailable,  # asyncpg's refused or reset connection
}
