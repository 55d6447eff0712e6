"""The shared parts plus the one message path: what channels, the web app and jobs are given."""

from __future__ import annotations

from dataclasses import dataclass

from bot.conversation.router import Router
from bot.core.services import Services


@dataclass(kw_only=True)
class Helpline(Services):
    """Services with the router: domain code takes Services, message handling takes this."""

    router: Router
