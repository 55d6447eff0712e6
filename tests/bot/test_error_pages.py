"""A bug is logged with its traceback and shown as a page; only a lost store answers 503."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web import errors, limits
from storage.db import make_engine

SECRET = "Jamie Kowalski 07700 900123"


def _app(database: str) -> Starlette:
    async def query(request: Request) -> Response:
        engine = make_engine(database)
        try:
            async with engine.connect() as connection:
                await connection.execute(text(request.query_params["sql"]))
        finally:
            await engine.dispose()
        return Response("ok")

    async def crash(request: Request) -> Response:
        raise ValueError(SECRET)

    return Starlette(
        routes=[
            Route("/staff/query", query),
            Route("/staff/crash", crash),
            Route("/twilio/sms", crash, methods=["POST"]),
        ],
        middleware=[Middleware(errors.ErrorPages)],
        exception_handlers=limits.EXCEPTION_HANDLERS,
    )


def _client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_a_sql_mistake_is_a_logged_error_page_not_a_503(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}")
    caplog.set_level(logging.ERROR, "bot.web.errors")
    async with _client(app) as client:
        page = await client.get(
            "/staff/query", params={"sql": "SELECT * FROM report_open_interval"}
        )
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in page.text
    [record] = caplog.records
    reference = record.getMessage().split()[2]
    assert reference in page.text
    logged = record.getMessage()
    assert "sqlalchemy.exc.OperationalError" in logged
    assert "while running: SELECT * FROM report_open_interval" in logged
    assert "in query" in logged  # the frame of the route that failed


async def test_messages_stay_out_of_the_log_and_webhooks_get_json(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app(f"sqlite+aiosqlite:///{tmp_path / 'helpline.db'}")
    caplog.set_level(logging.ERROR, "bot.web.errors")
    async with _client(app) as client:
        page = await client.get("/staff/crash")
        hook = await client.post("/twilio/sms", data={"Body": "hello"})
        api = await client.get("/staff/crash", headers={"Accept": "application/json"})
    assert page.status_code == hook.status_code == api.status_code == 500
    assert hook.json()["error"] == "Something went wrong on our side."
    assert api.json()["reference"] in caplog.text
    assert "builtins.ValueError" in caplog.text and "in crash" in caplog.text
    assert "Kowalski" not in caplog.text and "900123" not in caplog.text
    assert SECRET not in page.text


async def test_an_unreachable_store_still_answers_503() -> None:
    app = _app("postgresql+asyncpg://helpline@127.0.0.1:1/helpline")  # nothing listens there
    async with _client(app) as client:
        busy = await client.get("/staff/query", params={"sql": "SELECT 1"})
    assert busy.status_code == 503 and busy.headers["Retry-After"]
