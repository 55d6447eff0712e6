"""The staff dashboard at /staff: officers' queue, casework, and the manager's view."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from bot.conversation.helpline import Helpline
from bot.web.dashboard import (
    account,
    actions,
    admin,
    queue,
    reach,
    recordings,
    reports,
    safeguarding,
    signin,
    today,
    views,
)
from bot.web.dashboard.base import HERE, Dashboard
from bot.web.dashboard.security import StaffGuard


def install(services: Helpline) -> tuple[list[BaseRoute], list[Middleware]]:
    """The dashboard's routes and its /staff-only middleware, for `create_app` to mount."""
    board = Dashboard(services)
    routes: list[BaseRoute] = [
        Mount("/staff/static", StaticFiles(directory=HERE / "static"), name="staff_static"),
        *signin.routes(board),
        *account.routes(board),
        # reach before actions: /staff/enquiries/{reference}/{action} answers every other action
        *reach.routes(board),
        *views.routes(board),
        *actions.routes(board),
        *queue.routes(board),
        *today.routes(board),
        *admin.routes(board),
        *recordings.routes(board),
        *reports.routes(board),
        *safeguarding.routes(board),
    ]
    guard = Middleware(StaffGuard, secret=board.secret, secure=board.secure)
    return routes, [guard]
