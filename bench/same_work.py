"""The durable webhook doing a first message's writes by hand: the floor of helpline's work on
this stack. `BENCH_DATABASE_URL=... uvicorn bench.same_work:app`.

bench/durable.py commits one row; helpline's first SMS must also find (no) contact by its keyed
hash, create it, start its conversation, write two transcript lines and mark the delivery
processed with its replies, every address and text Fernet-encrypted, in one transaction before
the 2xx. Here that is done with the fewest statements the schema allows, hand-written SQL through
the same SQLAlchemy Core connection as durable.py, no ORM, no flow engine, no middleware: what
the work costs before any of helpline's own code runs. Its share of the durable webhook is the
most helpline's path could reach on this stack.
"""

import contextlib
import hashlib
import hmac
import json
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from cryptography.fernet import Fernet
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.twiml.messaging_response import MessagingResponse

from bench.durable import SIGNED_URL as SIGNED
from bench.durable import SQLITE, engine, healthz, validator

FERNET = Fernet(Fernet.generate_key())
LOOKUP = os.urandom(32)
# As long as helpline's consent notice, so the TwiML and the transcript weigh the same.
WELCOME = "Welcome to the helpline. " + "We give free, confidential, impartial advice. " * 12
KEY = "INTEGER PRIMARY KEY" if SQLITE else "BIGSERIAL PRIMARY KEY"
SCHEMA = [
    f"CREATE TABLE IF NOT EXISTS inbox (id {KEY}, channel TEXT, provider_id TEXT, address TEXT, "
    "address_hash TEXT, payload TEXT, received_at TIMESTAMP, processed_at TIMESTAMP, replies TEXT, "
    "UNIQUE (channel, provider_id))",
    f"CREATE TABLE IF NOT EXISTS contact (id {KEY}, channel TEXT, address TEXT, address_hash TEXT, "
    "language TEXT, created_at TIMESTAMP, last_seen_at TIMESTAMP, last_inbound_at TIMESTAMP, "
    "UNIQUE (channel, address_hash))",
    f"CREATE TABLE IF NOT EXISTS conversation (id {KEY}, contact_id INTEGER UNIQUE, flow TEXT, "
    "state TEXT, created_at TIMESTAMP, updated_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS transcript (id {KEY}, contact_id INTEGER, direction TEXT, "
    "text TEXT, at TIMESTAMP)",
]
RECORD = text(
    "INSERT INTO inbox (channel, provider_id, address, address_hash, payload, received_at) "
    "VALUES ('sms', :sid, :address, :hash, :payload, :now) "
    "ON CONFLICT (channel, provider_id) DO NOTHING RETURNING id"
)
FIND = text("SELECT id, language FROM contact WHERE channel = 'sms' AND address_hash = :hash")
CONTACT = text(
    "INSERT INTO contact (channel, address, address_hash, created_at, last_seen_at, "
    "last_inbound_at) VALUES ('sms', :address, :hash, :now, :now, :now) RETURNING id"
)
CONVERSATION = text(
    "INSERT INTO conversation (contact_id, flow, state, created_at, updated_at) "
    "VALUES (:contact, 'intake', :state, :now, :now)"
)
TRANSCRIPT = text(
    "INSERT INTO transcript (contact_id, direction, text, at) "
    "VALUES (:contact, 'in', :said, :now), (:contact, 'out', :answer, :now)"
)
DONE = text("UPDATE inbox SET processed_at = :now, replies = :replies WHERE id = :id")


def seal(value: object) -> str:
    return FERNET.encrypt(json.dumps(value).encode()).decode()


async def sms(request: Request) -> Response:
    form = await request.form()
    if not validator.validate(SIGNED, dict(form), request.headers.get("x-twilio-signature", "")):
        return Response("forbidden", status_code=403)
    address, said = str(form["From"]), str(form.get("Body", ""))
    now = datetime.now(UTC).replace(tzinfo=None)  # stored naive UTC, as helpline does
    hashed = hmac.new(LOOKUP, address.encode(), hashlib.sha256).hexdigest()
    sealed = seal(address)
    payload = {"sid": form["MessageSid"], "address": sealed, "hash": hashed, "now": now}
    async with engine.begin() as connection:  # one transaction, committed before the 200
        inbox_id = await connection.execute(RECORD, {**payload, "payload": seal(dict(form))})
        inbox_id = inbox_id.scalar()
        if inbox_id is not None:  # a redelivery would replay the stored replies instead
            contact = (await connection.execute(FIND, {"hash": hashed})).first()
            if contact is None:
                contact = (await connection.execute(CONTACT, payload)).first()
            assert contact is not None
            state = {"language": "en", "step": "consent", "answers": {}, "history": []}
            values = {"contact": contact[0], "now": now}
            await connection.execute(CONVERSATION, {**values, "state": seal(state)})
            await connection.execute(
                TRANSCRIPT, {**values, "said": seal(said), "answer": seal(WELCOME)}
            )
            replies = seal({"items": [{"text": WELCOME}]})
            await connection.execute(DONE, {"now": now, "replies": replies, "id": inbox_id})
    twiml = MessagingResponse()
    twiml.message(WELCOME)
    return Response(str(twiml), media_type="application/xml")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    async with engine.begin() as connection:
        for statement in SCHEMA:
            await connection.execute(text(statement))
    yield
    await engine.dispose()


routes = [Route("/twilio/sms", sms, methods=["POST"]), Route("/healthz", healthz)]
app = Starlette(routes=routes, lifespan=lifespan)
