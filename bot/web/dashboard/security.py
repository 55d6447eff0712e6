"""Protection for every /staff response: CSRF on state changes, and strict browser headers.

Only /staff paths pass through here: the webhooks (/telegram, /twilio) are signed by their
providers and the web chat has its own cookie, so they are left exactly as they were.
"""

from __future__ import annotations

import http.cookies

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_csrf.middleware import CSRFMiddleware

PREFIX = "/staff"
CSRF_COOKIE = "helpline_csrf"
CSRF_HEADER = "x-csrftoken"
HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def csrf_token(request: Request) -> str:
    """The token the page puts in its meta tag; htmx sends it back in the X-CSRFToken header."""
    return request.cookies.get(CSRF_COOKIE) or str(request.scope["state"]["csrf_token"])


class StaffGuard(CSRFMiddleware):
    """starlette-csrf's double-submit check, applied to /staff only, plus security headers.

    The token is made before the page renders (not after, as upstream does) so the first page
    a browser sees can already carry it in its meta tag.
    """

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        super().__init__(
            app,
            secret,
            cookie_name=CSRF_COOKIE,
            cookie_path=PREFIX,
            cookie_secure=secure,
            cookie_httponly=True,
            cookie_samesite="strict",
            header_name=CSRF_HEADER,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        if CSRF_COOKIE not in Request(scope).cookies:
            scope["state"]["csrf_token"] = self._generate_csrf_token()
        await super().__call__(scope, receive, send)

    async def send(self, message: Message, send: Send, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in HEADERS.items():
                headers[name] = value
            token = scope["state"].get("csrf_token")
            if token:
                cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
                cookie[CSRF_COOKIE] = token
                morsel = cookie[CSRF_COOKIE]
                morsel["path"] = self.cookie_path
                morsel["secure"] = self.cookie_secure
                morsel["httponly"] = self.cookie_httponly
                morsel["samesite"] = self.cookie_samesite
                headers.append("set-cookie", cookie.output(header="").strip())
        await send(message)
