"""The minimal durable webhook: verify Twilio's signature, commit the raw message with one
INSERT ... ON CONFLICT DO NOTHING in one transaction, answer TwiML. The floor a webhook that
keeps the durability contract (2xx only after the inbound row is committed) can reach on this
stack: `BENCH_DATABASE_URL=sqlite+aiosqlite:///x.db uvicorn bench.durable:app`.
"""

import contextlib
import os
from collections.abc import AsyncIterator

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

URL = os.environ["BENCH_DATABASE_URL"]
SIGNED_URL = os.environ["HELPLINE_PUBLIC_URL"].rstrip("/") + "/twilio/sms"
validator = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"])
SQLITE = URL.startswith("sqlite")
engine = create_async_engine(URL, **({} if SQLITE else {"pool_size": 10}))
INSERT = text(
    "INSERT INTO inbox (provider_id, sender, raw) VALUES (:sid, :sender, :raw) "
    "ON CONFLICT (provider_id) DO NOTHING"
)
KEY = "INTEGER PRIMARY KEY" if SQLITE else "BIGSERIAL PRIMARY KEY"
CREATE = f"CREATE TABLE IF NOT EXISTS inbox (id {KEY}, provider_id TEXT UNIQUE NOT NULL, "
CREATE += "sender TEXT NOT NULL, raw TEXT NOT NULL, "
CREATE += "received_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)"


def pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()  # the same pragmas as helpline's store (storage/db.py)
    for pragma in ("journal_mode=WAL", "busy_timeout=10000", "synchronous=FULL"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


if SQLITE:
    event.listen(engine.sync_engine, "connect", pragmas)


async def sms(request: Request) -> Response:
    raw = await request.body()
    form = await request.form()
    signature = request.headers.get("x-twilio-signature", "")
    if not validator.validate(SIGNED_URL, dict(form), signature):
        return Response("forbidden", status_code=403)
    params = {"sid": form["MessageSid"], "sender": form["From"], "raw": raw.decode()}
    async with engine.begin() as connection:  # one transaction, committed before the 200
        await connection.execute(INSERT, params)
    twiml = MessagingResponse()
    twiml.message("Thank you. We have your message and will reply shortly.")
    return Response(str(twiml), media_type="application/xml")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        await connection.execute(text(CREATE))
    yield
    await engine.dispose()


async def healthz(request: Request) -> Response:
    return Response("ok")


routes = [Route("/twilio/sms", sms, methods=["POST"]), Route("/healthz", healthz)]
app = Starlette(routes=routes, lifespan=lifespan)
