"""What one turn of a conversation needs of the router, as a protocol: the turn, the safety
reply and service-started flows take this, so they never import the router that calls them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from bot.core.clock import WorkingClock
from bot.core.i18n import Catalogs
from bot.core.settings import Settings
from flows.engine import Engine, Flow, Reply
from flows.intake import INTAKE
from storage.models import Enquiry

# A service-started flow's finisher, as the turn calls it (the router's Finisher is one).
AnyFinisher = Callable[..., Awaitable[list[Reply]]]


class Conversations(Protocol):
    """The router, as the turn sees it: settings, clock, catalogs, flows and their engines."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> WorkingClock: ...

    @property
    def catalogs(self) -> Catalogs: ...

    @property
    def flows(self) -> Mapping[str, tuple[Flow, AnyFinisher | None]]: ...

    def engine(self, state: dict[str, Any], flow_name: str = INTAKE.name) -> Engine: ...

    def confirmation(self, enquiry: Enquiry, state: dict[str, Any]) -> Reply: ...
