"""A real headless Chromium (Debian's) driven by Playwright, against a live server."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from bot.core.settings import Settings
from bot.web.app import create_app
from tests.conftest import london
from tests.fakes.server import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    path = tmp_path / "browser.db"
    shutil.copy(sqlite_template, path)
    return replace(Settings(), database_url=f"sqlite+aiosqlite:///{path}", languages=("en",))


@pytest.fixture
def live_url(live_settings: Settings) -> Iterator[str]:
    # Monday 23 November 2026, 10:00 in London, whatever the wall clock says.
    app = create_app(live_settings, migrate=False, now=lambda: london(2026, 11, 23, 10, 0))
    with LiveServer(app) as server:
        yield server.url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for the browser tests (make browser)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
