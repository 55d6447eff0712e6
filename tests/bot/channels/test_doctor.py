"""No example safety numbers in service: `serve` refuses them, a local trial shows a banner on
every page, and `helpline doctor` lists what still needs a real value with the deployment checks.

Here beside the channel fixtures: the doctor asks the (fake) Telegram where its webhook points.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from bot.cli import doctor
from bot.cli.main import main
from bot.cli.telegram import set_webhook
from bot.core.settings import Settings, SettingsError
from bot.web.app import create_app
from bot.wiring import build_services
from tests.bot.channels.conftest import PUBLIC_URL
from tests.conftest import FakeClock, test_settings

REAL = {
    "children_services_phone": "0161 496 0000",
    "out_of_hours_phone": "0161 496 0001",
    "service_phone": "0161 496 0002",
}
NO_ARGS = argparse.Namespace()


async def run_doctor(settings: Settings, clock: FakeClock) -> int:
    services = build_services(settings, now=clock)
    try:
        return await doctor.doctor(services, NO_ARGS)
    finally:
        await services.close()


async def test_a_ready_deployment_passes_once_the_webhook_is_registered(
    channel_settings: Settings, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    good = replace(channel_settings, secret_key="k" * 40, **REAL)
    assert await run_doctor(good, clock) == 1
    out = capsys.readouterr().out
    wanted = f"{PUBLIC_URL}/telegram/webhook"
    assert f"FAIL  telegram webhook is nothing, not {wanted} (telegram set-webhook)" in out
    assert "ok    migrations current" in out and "ok    public URL is https" in out
    services = build_services(good, now=clock)
    await set_webhook(services, None)
    await services.close()
    assert await run_doctor(good, clock) == 0
    out = capsys.readouterr().out
    assert "FAIL" not in out and out.rstrip().endswith("ready for service")
    assert good.telegram_bot_token not in out and good.secret_key not in out


async def test_the_shipped_examples_and_an_unsafe_deployment_are_listed(
    settings: Settings, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_doctor(settings, clock) == 1
    out = capsys.readouterr().out
    for name, example in (
        ("children_services_phone", "01234 000000"),
        ("out_of_hours_phone", "01234 000001"),
        ("service_phone", "01234 567890"),
    ):
        assert f"FAIL  {name} is still the example {example!r}: set a real number" in out
    assert "FAIL  HELPLINE_PUBLIC_URL is not https: http://127.0.0.1:8080" in out
    assert "FAIL  HELPLINE_SECRET_KEY is unset" in out
    assert out.rstrip().endswith("thing(s) to fix")


async def test_a_database_never_migrated_is_reported(
    tmp_path: Path, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = test_settings(f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", **REAL)
    assert await run_doctor(fresh, clock) == 1
    assert "FAIL  migrations behind: at None, head" in capsys.readouterr().out


def test_serve_refuses_example_safety_numbers_but_a_local_trial_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HELPLINE_CONFIG", raising=False)
    monkeypatch.delenv("HELPLINE_EPHEMERAL_SECRET", raising=False)
    monkeypatch.setenv("HELPLINE_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    assert main(["serve", "--port", "9"]) == 2
    err = capsys.readouterr().err
    assert "refusing to start: children_services_phone, out_of_hours_phone" in err
    assert "Traceback" not in err
    monkeypatch.setenv("HELPLINE_EPHEMERAL_SECRET", "1")
    doctor.refuse_examples(Settings())  # `make run`: starts, with the banner below
    monkeypatch.delenv("HELPLINE_EPHEMERAL_SECRET")
    with pytest.raises(SettingsError):
        doctor.refuse_examples(replace(Settings(), out_of_hours_phone="01234000001"))
    doctor.refuse_examples(replace(Settings(), **REAL))


@pytest.mark.parametrize("path", ["/chat", "/staff/login"])
async def test_every_page_carries_the_banner_while_the_numbers_are_examples(
    settings: Settings, path: str
) -> None:
    for numbers, shown in (({}, True), (REAL, False)):
        app = create_app(replace(settings, **numbers), migrate=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            page = await http.get(path)
        assert page.status_code == 200
        assert ('class="trial-banner" role="alert">NOT FOR REAL USE' in page.text) is shown
        await app.state.messaging.stop()
