"""Parents on SMS and Telegram against real `helpline serve` processes that get SIGKILLed.

Each request is retried unchanged (same MessageSid or update_id, same body and signature) until
it gets 200, as Twilio and Telegram do. SMS replies come back in the TwiML; Telegram replies
arrive at the fake Bot API. A fault-free run of the same script is the reference every reply of
a faulty run is compared with: a reply missing is lost, a Telegram message seen twice is doubled.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fakes.server import LiveServer
from tests.fakes.telegram_api import FakeTelegram, update_message
from tests.fakes.twilio_api import FakeTwilio, signed_post_headers, sms_form
from tests.faults.serve import HelplineProcess, SchedulerProcess, free_port
from tests.faults.verdict import Outcome, Store, collapsed, normalised
from tests.parent import ANSWERS

PUBLIC_URL = "https://helpline.example.org"
WEBHOOK_SECRET = "fault-run-webhook-secret"
SERVICE_NUMBER = "+441632960000"
LEASE_SECONDS = 5  # short, so a row stranded by a kill goes out again within the run, and
# longer than any send to the fakes takes on a loaded machine (a live worker keeps its rows)
SMS_SCRIPT = ["Hello", "yes", "1", "2", "2", "Year 4", "2", ANSWERS[6], "yes", "1"]
SMS_SCRIPT += ["yes", "no", "1", "5", "1"]  # the sender's number is offered: "yes"
TELEGRAM_SCRIPT = ["/start", *ANSWERS, "1"]


class Servers:
    """The `helpline serve` processes on one database; requests go round them in turn, or all
    to the one port they share (`shared`: the kernel picks the process)."""

    def __init__(self, processes: list[HelplineProcess], shared: str = "") -> None:
        self.processes = processes
        self.shared = shared
        self._turn = itertools.count()
        self.telegram_acknowledged = asyncio.Event()  # the worker is sending its replies now
        self.restarting = False
        self.up_since = 0.0  # loop time of the last (re)start, for patience with slow starts

    def patience_from(self, since: float) -> float:
        """How long a reply has had a running server to arrive in since `since`."""
        if self.restarting:
            return 0.0
        return asyncio.get_running_loop().time() - max(since, self.up_since)

    def url(self) -> str:
        if self.shared:
            return self.shared
        return self.processes[next(self._turn) % len(self.processes)].url


async def _until_200(
    servers: Servers, path: str, outcome: Outcome, deadline: float, **request: object
) -> httpx.Response:
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=10.0) as http:
        while loop.time() < deadline:
            try:
                response = await http.post(servers.url() + path, **request)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                outcome.errors[type(exc).__name__] = outcome.errors.get(type(exc).__name__, 0) + 1
                outcome.retries += 1
                await asyncio.sleep(0.05)
                continue
            if response.status_code == 200:
                outcome.acknowledged += 1
                if path == "/telegram/webhook":
                    servers.telegram_acknowledged.set()
                return response
            assert response.status_code in {502, 503}, (response.status_code, response.text)
            outcome.retries += 1
            await asyncio.sleep(0.05)
    raise TimeoutError(f"{outcome.name}: never acknowledged")


async def sms_parent(servers: Servers, number: str, deadline: float) -> Outcome:
    outcome = Outcome(f"sms {number[-4:]}")
    for step, body in enumerate(SMS_SCRIPT):
        form = sms_form(f"SM{number[-6:]}{step:026d}", number, SERVICE_NUMBER, body)
        headers = signed_post_headers(PUBLIC_URL + "/twilio/sms", form, FakeTwilio().auth_token)
        response = await _until_200(
            servers, "/twilio/sms", outcome, deadline, data=form, headers=headers
        )
        texts = [e.text or "" for e in ET.fromstring(response.text).iter("Message")]
        outcome.replies.append([normalised(t) for t in texts])
    return outcome


Settled = Callable[[int], Awaitable[bool]]


async def telegram_parent(
    servers: Servers,
    fake: FakeTelegram,
    chat: int,
    deadline: float,
    expected: list[int] | None,
    settled: Settled,
    reply_timeout: float = LEASE_SECONDS + 10.0,  # with a server up: the lease, a sweep, slack
) -> Outcome:
    """Waits after each message for its replies: as many as the reference run had (or, in the
    reference run itself, until the chat's outbox rows are all settled)."""
    outcome = Outcome(f"telegram {chat}")
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    loop = asyncio.get_running_loop()

    def chat_so_far() -> list[str]:
        return [normalised(m["text"]) for m in fake.sent_messages(chat)]

    for step, text in enumerate(TELEGRAM_SCRIPT):
        update = update_message(chat * 100 + step, chat, text, date=1_764_000_000 + step)
        await _until_200(
            servers, "/telegram/webhook", outcome, deadline, json=update, headers=headers
        )
        acknowledged_at = loop.time()
        while True:
            if expected is None:
                done = await settled(chat)
            else:
                done = len(collapsed(chat_so_far())) >= expected[step]
            if done:
                break
            if servers.patience_from(acknowledged_at) > reply_timeout or loop.time() > deadline:
                outcome.stalled = True
                outcome.replies.append(chat_so_far())
                return outcome
            await asyncio.sleep(0.05)
        outcome.replies.append(chat_so_far())
    return outcome


@dataclass
class Fault:
    """`kills` SIGKILLs of the first server (`any_worker`: of one drawn at random), each
    `interval` seconds (drawn from `seed`) after the last restarted one answered /healthz; then
    the parents finish undisturbed. Every other kill is aimed: it lands within 50 ms of a
    Telegram acknowledgement, while a worker sends its replies."""

    kills: int
    seed: int = 21
    interval: tuple[float, float] = (0.5, 2.5)
    done: int = 0
    any_worker: bool = False
    victims: dict[int, int] = field(default_factory=dict)  # worker number: times killed


async def run_parents(
    database_url: str,
    workdir: Path,
    *,
    sms: int = 4,
    telegram: int = 4,
    reference: list[Outcome] | None = None,
    fault: Fault | None = None,
    workers: int = 1,
    give_up: float = 120.0,
    shared_port: bool = False,
    sender: bool = False,
) -> list[Outcome]:
    """One run of all the parents at once; with `fault`, the first server (or any) is SIGKILLed
    and restarted until they are done (other workers, if any, keep serving). `shared_port`: the
    workers share one port (`serve --reuse-port`) and every request goes to it. `sender`: the
    production layout, workers `--no-sender` and a `helpline scheduler` (never killed) sends."""
    fake_telegram, fake_twilio = FakeTelegram(), FakeTwilio()
    async with LiveServer(fake_telegram.app) as tg_api, LiveServer(fake_twilio.app) as tw_api:
        env = {
            "HELPLINE_PUBLIC_URL": PUBLIC_URL,
            "TELEGRAM_BOT_TOKEN": fake_telegram.token,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TELEGRAM_API_BASE_URL": f"{tg_api.url}/bot",
            "TWILIO_ACCOUNT_SID": fake_twilio.account_sid,
            "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
            "TWILIO_PHONE_NUMBER": SERVICE_NUMBER,
            "TWILIO_API_BASE_URL": tw_api.url,
        }
        config = f"[outbox]\nlease_seconds = {LEASE_SECONDS}\n"
        port = free_port() if shared_port else None
        options = ("--no-sender",) if sender else ()
        processes = [
            HelplineProcess(
                database_url, workdir, env=env, config=config, name=f"serve{n}",
                shared_port=port, options=options,
            )
            for n in range(workers)
        ]  # fmt: skip
        scheduler = (
            SchedulerProcess(database_url, workdir, env=env, config=config, name="scheduler")
            if sender
            else None
        )
        if scheduler is not None:
            await scheduler.start()
        for process in processes:
            await process.start()
        store = Store(database_url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up
        servers = Servers(processes, f"http://127.0.0.1:{port}" if port else "")
        expected_counts = _counts(reference, sms) if reference else None
        try:
            jobs = [sms_parent(servers, f"+4477009{n:05d}", deadline) for n in range(sms)]
            for n in range(telegram):
                expected = expected_counts[n] if expected_counts else None
                chat = 7_000_000 + n
                jobs.append(
                    telegram_parent(servers, fake_telegram, chat, deadline, expected, store.settled)
                )
            everyone = asyncio.ensure_future(asyncio.gather(*jobs))
            if fault is not None:
                await _inflict(fault, processes, servers, everyone)
            outcomes = list(await everyone)
            for problem in await store.one_enquiry_each(
                [("sms", f"+4477009{n:05d}") for n in range(sms)]
                + [("telegram", str(7_000_000 + n)) for n in range(telegram)]
            ):
                outcomes[0].problems.append(problem)
            return outcomes
        finally:
            await store.close()
            for process in processes:
                await process.stop()
            if scheduler is not None:
                await scheduler.stop()


async def _inflict(
    fault: Fault, processes: list[HelplineProcess], servers: Servers, everyone: asyncio.Future[Any]
) -> None:
    """The kills. `any_worker`: a worker drawn from those up is killed while another is up, and
    restarts in the background (the next kill may come before it is back); otherwise the first
    server is killed and restarted before the next gap."""
    loop = asyncio.get_running_loop()
    rng = random.Random(fault.seed)
    restarts: dict[int, asyncio.Future[None]] = {}
    while fault.done < fault.kills and not everyone.done():
        await asyncio.wait([everyone], timeout=rng.uniform(*fault.interval))
        if fault.done % 2:
            servers.telegram_acknowledged.clear()
            acked = asyncio.ensure_future(servers.telegram_acknowledged.wait())
            await asyncio.wait([everyone, acked], return_when=asyncio.FIRST_COMPLETED)
            acked.cancel()
            await asyncio.sleep(rng.uniform(0, 0.05))
        up = [n for n in range(len(processes)) if n not in restarts or restarts[n].done()]
        while fault.any_worker and len(up) < 2 and not everyone.done():
            pending = [r for r in restarts.values() if not r.done()]
            await asyncio.wait([everyone, *pending], return_when=asyncio.FIRST_COMPLETED)
            up = [n for n in range(len(processes)) if n not in restarts or restarts[n].done()]
        if everyone.done():
            break
        n = rng.choice(up) if fault.any_worker else 0
        victim = processes[n]
        servers.restarting = True
        await victim.kill()
        fault.done += 1
        fault.victims[n] = fault.victims.get(n, 0) + 1
        restarts[n] = asyncio.ensure_future(victim.start())
        restarts[n].add_done_callback(lambda _: _restarted(servers, restarts, loop.time()))
        if not fault.any_worker:
            await restarts[n]
    await asyncio.gather(*restarts.values())


def _restarted(servers: Servers, restarts: dict[int, asyncio.Future[None]], now: float) -> None:
    if all(r.done() for r in restarts.values()):
        servers.up_since, servers.restarting = now, False


def _counts(reference: list[Outcome], sms: int) -> list[list[int]]:
    """For each Telegram parent of the reference, how many messages it had after each step."""
    return [[len(collapsed(chat)) for chat in outcome.replies] for outcome in reference[sms:]]
