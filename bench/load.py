"""The load generator: whole intakes by signed SMS (or web chat), at a fixed concurrency.

Each parent has its own number and sends each message after the previous answer, every message
with a fresh MessageSid and Twilio's signature for HELPLINE_PUBLIC_URL + /twilio/sms.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token-0123456789abcdef"
PUBLIC_URL = "https://helpline.bench.invalid"
SERVICE_NUMBER = "+441632960000"
# The intake over SMS: the sender's number is offered, so "yes" replaces typing one.
SMS_SCRIPT = [
    "hello", "yes", "1", "2", "2", "Year 4", "2", "The school says they cannot meet his needs.",
    "yes", "1", "yes", "no", "1", "5", "1",
]  # fmt: skip
RISKY = "he hits my son and I am scared he will kill him"
RISKY_STEP = 7  # replaces the description
_numbers = itertools.count(1)
_validator = RequestValidator(AUTH_TOKEN)


@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    conversations: int = 0
    risky: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


def sms_form(sender: str, body: str) -> dict[str, str]:
    """What Twilio posts for an inbound SMS (the fields the app and the bare endpoint read)."""
    sid = "SM" + secrets.token_hex(16)
    return {
        "ToCountry": "GB", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
        "SmsStatus": "received", "Body": body, "FromCountry": "GB", "To": SERVICE_NUMBER,
        "NumSegments": "1", "MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": sender,
        "ApiVersion": "2010-04-01",
    }  # fmt: skip


def signed(form: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    signature = _validator.compute_signature(PUBLIC_URL + "/twilio/sms", form)
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
    }
    return urlencode(form).encode(), headers


async def sms_conversation(http: httpx.AsyncClient, load: Load, script: list[str]) -> None:
    """One parent's whole intake by SMS from a number of their own."""
    sender = f"+447700{next(_numbers) % 1_000_000:06d}"
    for text in script:
        body, headers = signed(sms_form(sender, text))
        started = time.perf_counter()
        response = await http.post("/twilio/sms", content=body, headers=headers)
        load.latencies.append(time.perf_counter() - started)
        if response.status_code != 200 or b"<Response" not in response.content:
            load.errors += 1
    load.conversations += 1


async def drive(
    urls: list[str],
    concurrency: int,
    messages: int,
    seconds: float,
    *,
    risky_every: int = 0,
) -> Load:
    """`concurrency` parents at a time, new ones as others finish, until either bound.

    Parents are spread round-robin over `urls` (no stickiness: state lives in the store).
    """
    load = Load()
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(base_url=u, timeout=30, limits=limits) for u in urls]
    counter = 0

    async def worker() -> None:
        nonlocal counter
        while len(load.latencies) < messages and time.perf_counter() < deadline:
            counter += 1
            lines = list(SMS_SCRIPT)
            if risky_every and counter % risky_every == 0:
                lines[RISKY_STEP] = RISKY
                load.risky += 1
            await sms_conversation(clients[counter % len(clients)], load, lines)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    load.elapsed = time.perf_counter() - started
    for client in clients:
        await client.aclose()
    return load


HEADER = (
    "| endpoint | messages | errors | msg/s | p50 ms | p95 ms | p99 ms | "
    "throughput ratio | p99 ratio |\n|---|---|---|---|---|---|---|---|---|"
)


def row(name: str, load: Load, bare: Load | None) -> str:
    ratio = " | "
    if bare is not None and bare.rate and bare.pct(99):
        ratio = f"{load.rate / bare.rate:.2f} | {load.pct(99) / bare.pct(99):.1f}x"
    return (
        f"| {name} | {len(load.latencies)} | {load.errors} | {load.rate:.0f} | "
        f"{load.pct(50):.1f} | {load.pct(95):.1f} | {load.pct(99):.1f} | {ratio} |"
    )
