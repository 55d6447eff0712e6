"""What the journey tests share: a served helpline on a fresh store, the CLI, and an axe audit.

Each journey goes through the public pages only (the web chat, the staff dashboard) and the
`helpline` command, as the service's people would; the store is read only to check the outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core.services import Services
from bot.core.settings import Settings
from bot.web.app import create_app
from bot.wiring import build_services
from storage.db import make_engine, make_sessionmaker
from tests.conftest import FakeClock, test_settings
from tests.fakes.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
PASSWORD = "kettle-orbit-Ramsbottom-97"
BLOCKING = ("serious", "critical")
ALSO_BLOCKING = ("empty-table-header",)  # minor to axe, but found on the rota page: kept out
AXE = Axe()


def service_settings(db_url: str, **changes: Any) -> Settings:
    """A service set up for real: its own safety numbers, so no trial banner on any page."""
    changes.setdefault("children_services_phone", "01632 960123")
    changes.setdefault("out_of_hours_phone", "01632 960456")
    return test_settings(db_url, **changes)


@dataclass
class Served:
    services: Services
    url: str
    settings: Settings
    store: async_sessionmaker[AsyncSession]  # the test's own connections, on the test's loop


@asynccontextmanager
async def served(settings: Settings, clock: FakeClock) -> AsyncIterator[Served]:
    """The helpline on a live server; its connections belong to the server's event loop."""
    services = build_services(settings, now=clock)
    app = create_app(settings, services=services, migrate=False)
    engine = make_engine(settings.database_url)
    try:
        async with LiveServer(app) as server:
            yield Served(services, server.url, settings, make_sessionmaker(engine))
    finally:
        await engine.dispose()


def helpline(settings: Settings, *args: str, stdin: str = "") -> str:
    """Run the `helpline` command on the journey's database, as an operator would."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HELPLINE_DATABASE_URL": settings.database_url,
        "HELPLINE_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        "HELPLINE_LOOKUP_KEY": settings.lookup_key or "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *args],
        env=env,
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def new_page(browser: Browser, viewport: dict[str, int]) -> tuple[Page, list[str]]:
    """A fresh tab; script errors and CSP violations are collected for the test to check."""
    context = await browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


async def audit(page: Page, audited: dict[str, list[str]]) -> None:
    """axe-core on the page as it stands: serious or critical violations fail the journey."""
    results = await AXE.run(page)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING or v["id"] in ALSO_BLOCKING
    ]
    audited[page.url.split("?")[0]] = found


def assert_accessible(audited: dict[str, list[str]]) -> None:
    assert audited, "no page was audited"
    failing = {url: found for url, found in audited.items() if found}
    assert not failing, failing


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None and width <= viewport["width"], (page.url, width)


async def sign_in(page: Page, url: str, email: str, clock: FakeClock) -> None:
    """Sign in; a new manager or admin first sets up the second factor, as the page asks."""
    await page.goto(url + "/staff/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda address: not address.endswith("/staff/login"))
    if page.url.endswith("/staff/account"):
        await page.get_by_role("button", name="Set up a second factor").click()
        key = await page.locator("#totp-key").inner_text()
        await page.get_by_label("Code from the app").fill(pyotp.TOTP(key).at(clock()))
        await page.get_by_role("button", name="Turn on").click()
        await page.get_by_role("link", name="Go to Today").click()
    await page.wait_for_url(url + "/staff/today")


def add_staff(settings: Settings, email: str, name: str, role: str) -> None:
    out = helpline(settings, "staff", "add", email, "--name", name, "--role", role, stdin=PASSWORD)
    assert email in out or out == "" or "added" in out.lower(), out


def accept_dialogs(page: Page) -> list[str]:
    """Say yes to every confirm() and keep what was asked."""
    asked: list[str] = []

    async def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", answer)
    return asked
