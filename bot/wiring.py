"""The one place the helpline is assembled: the store, the clock, the router with its intercepts
and the flows that replies can arrive for. Every entry point (web app, CLI, scheduler, tests)
builds through here, so a flow registered here is known wherever its replies arrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.conversation import after_intake, intercepts, nudge
from bot.conversation.helpline import Helpline
from bot.conversation.router import Router
from bot.conversation.surveys import store_feedback
from bot.core.i18n import Catalogs
from bot.core.keys import configure_keys
from bot.core.services import make_clock, utcnow
from bot.core.settings import Settings
from flows.feedback import FEEDBACK
from storage.db import make_engine, make_sessionmaker


def build_services(settings: Settings, now: Callable[[], datetime] = utcnow) -> Helpline:
    configure_keys(settings)
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    clock = make_clock(settings)
    catalogs = Catalogs(settings.languages)
    router = Router(sessions, settings, clock, catalogs, now=now)
    router.intercepts += [intercepts.subscriptions, intercepts.help_and_status]
    router.intercepts.append(after_intake.replies_after_intake)  # after STOP, HELP, /status
    router.register_flow(FEEDBACK, store_feedback)
    nudge.register(router)
    return Helpline(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        catalogs=catalogs,
        router=router,
        now=now,
    )
