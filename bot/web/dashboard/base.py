"""What every dashboard page shares: templates, the signed-in check, role checks, replies.

Every handler runs inside one transaction with the signed-in staff member loaded from the store,
so a disabled account or a changed role takes effect on the very next request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.conversation.helpline import Helpline
from bot.core.keys import session_secret
from bot.core.settings import trial_banner
from bot.domain import audit, second_factor
from bot.domain.staff import ROLES
from bot.web.dashboard.auth import Sessions, has_role
from bot.web.dashboard.security import csrf_token
from storage.models import Staff

HERE = Path(__file__).parent
Handler = Callable[[Request, Staff, AsyncSession], Awaitable[Response]]


def language_name(code: str) -> str:
    """ "Urdu", "Polish": officers read the language in English."""
    try:
        return str(Locale.parse(code).get_display_name("en"))
    except (ValueError, TypeError):
        return code


class Dashboard:
    """The dashboard's shared state, built once per app."""

    def __init__(self, services: Helpline) -> None:
        self.services = services
        self.settings = services.settings
        self.secure = services.settings.public_url.startswith("https://")
        self.secret = session_secret(services.settings)
        self.sessions = Sessions(self.secret, self.secure)
        self.templates = Jinja2Templates(directory=HERE / "templates")
        self.templates.env.filters["local"] = self.local
        self.templates.env.globals["language_name"] = language_name
        self.templates.env.globals["trial_banner"] = trial_banner(services.settings)

    def now(self) -> datetime:
        return self.services.now()

    def local(self, at: datetime | None, style: str = "%a %d %b %H:%M") -> str:
        if at is None:
            return ""
        return at.astimezone(ZoneInfo(self.settings.timezone)).strftime(style)

    def render(
        self,
        request: Request,
        name: str,
        context: dict[str, Any],
        staff: Staff | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        context = {
            "csrf_token": csrf_token(request),
            "me": staff,
            "can": (lambda role: staff is not None and has_role(staff, role)),
            "service_name": self.settings.service_name,
            **context,
        }
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def message(self, request: Request, text: str, status: int = 422) -> HTMLResponse:
        """A short answer an htmx form shows in its message area."""
        return self.templates.TemplateResponse(
            request, "_message.html", {"text": text}, status_code=status
        )

    @staticmethod
    def go(request: Request, url: str) -> Response:
        """After a change: htmx loads `url` as a whole page; a plain client gets a 303."""
        if "hx-request" in request.headers:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def guarded(self, role: str = "officer") -> Callable[[Handler], Callable[..., Any]]:
        """Require a live session and at least `role`, checked on the server for every request."""
        assert role in ROLES

        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                now = self.now()
                async with self.services.sessions.begin() as session:
                    current = await self.sessions.current(request, session, now)
                    if current is None:
                        return self._sign_in_again(request)
                    staff, issued = current
                    version = staff.session_version
                    if self._must_set_up_second_factor(request, staff):
                        response: Response = self.go(request, "/staff/account")
                    elif not has_role(staff, role):
                        audit.record(session, staff, "forbidden", now, detail=request.url.path)
                        response = self.render(request, "forbidden.html", {}, staff, status=403)
                    else:
                        response = await handler(request, staff, session)
                keep = getattr(request.state, "keep_session", False)
                if staff.active and (staff.session_version == version or keep):
                    self.sessions.issue(response, staff, issued, now)  # slides the idle timeout
                else:  # signed out (or ended) by this very request: no fresh cookie
                    self.sessions.end(response)
                response.headers["Cache-Control"] = "no-store"
                return response

            return endpoint

        return wrap

    @staticmethod
    def _must_set_up_second_factor(request: Request, staff: Staff) -> bool:
        """Managers and admins reach nothing but their account page until TOTP is on."""
        if not second_factor.required(staff) or second_factor.enabled(staff):
            return False
        path = request.url.path
        return not (path == "/staff/logout" or path.startswith("/staff/account"))

    def _sign_in_again(self, request: Request) -> Response:
        if request.method == "GET" and "hx-request" not in request.headers:
            response: Response = RedirectResponse("/staff/login", status_code=303)
        else:
            response = Response("Please sign in again.", status_code=401)
            response.headers["HX-Redirect"] = "/staff/login"
        self.sessions.end(response)
        response.headers["Cache-Control"] = "no-store"
        return response
