"""The ASGI app: every webhook, the web chat and the staff dashboard, in one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels import webchat
from bot.channels.twilio import calls, operations, voice
from bot.conversation.helpline import Helpline
from bot.core.services import utcnow
from bot.core.settings import Settings, load_settings
from bot.web import dashboard, errors, health, limits, metrics
from bot.web.messaging import Messaging
from bot.wiring import build_services
from flows import safeguarding

log = logging.getLogger(__name__)


class Background(Protocol):
    """Work that runs beside the app for its lifetime (the scheduler, when this process has it)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


def create_app(
    settings: Settings | None = None,
    *,
    now: Callable[[], datetime] = utcnow,
    migrate: bool = True,
    services: Helpline | None = None,
    background: Sequence[Callable[[Helpline], Background]] = (),
    send: bool = True,
) -> Starlette:
    """Build the app; the lifespan migrates the schema and replays unprocessed deliveries.
    `send`: run the outbox worker here (False: `helpline scheduler` sends)."""
    settings = settings or load_settings()
    services = services or build_services(settings, now)
    messaging = Messaging(services, send=send)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if migrate:
            await services.migrate()
        # Compile the safeguarding patterns before the first parent writes (about 2 s).
        await asyncio.to_thread(safeguarding.warm)
        recovered = await services.router.recover()
        if recovered:
            log.info("processed %d deliveries left over from before a restart", recovered)
        running = [start(services) for start in background]
        for work in running:
            work.start()
        await messaging.start()
        try:
            yield
        finally:
            await messaging.stop()
            for work in reversed(running):
                await work.stop()
            await services.close()

    async def healthz(request: Request) -> Response:
        try:
            async with services.sessions() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return JSONResponse({"status": "database unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    async def home(request: Request) -> Response:
        return RedirectResponse("/chat", status_code=302)

    staff_routes, staff_middleware = dashboard.install(services)
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/healthz", healthz),
        *health.routes(services),
        *metrics.routes(services),
        *operations.routes(services),
        *webchat.routes(services),
        *messaging.routes(),
        *voice.routes(services),
        *calls.routes(services),
        *staff_routes,
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(errors.ErrorPages),
            Middleware(metrics.WebhookTiming),
            Middleware(limits.BodyLimit),
            *staff_middleware,
        ],
        exception_handlers=limits.EXCEPTION_HANDLERS,
    )
    app.state.services = services
    app.state.messaging = messaging
    return app
