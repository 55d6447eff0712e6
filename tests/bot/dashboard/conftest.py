"""The dashboard app and an HTTP client for it, on the test's services (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from bot.core.services import Services
from bot.web.app import create_app
from tests.bot.dashboard.helpers import client_for


@pytest.fixture
def app(services: Services) -> Starlette:
    return create_app(services.settings, services=services, migrate=False)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as http:
        yield http
