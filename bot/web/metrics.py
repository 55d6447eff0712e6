"""`/metrics` for Prometheus, behind HELPLINE_METRICS_TOKEN (404 when unset): the process's
counters (bot.core.metrics) and gauges read from the store at scrape time in a few aggregates.

Each web worker keeps its own counters: scrape every worker. The gauges are the whole service's.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.conversation.helpline import Helpline
from bot.core import metrics
from bot.domain.callbacks import OPEN_STATUSES
from bot.web.health import outbox_state, scheduler_leads
from storage import jobruns
from storage.models import Callback, LoginAttempt

# The routes whose answer time is measured: a parent (or a provider) waits on each of these.
TIMED = (
    ("/telegram/webhook", "telegram"),
    ("/twilio/sms", "twilio_sms"),
    ("/twilio/fallback", "twilio_fallback"),
    ("/twilio/status", "twilio_status"),
    ("/twilio/errors", "twilio_errors"),
    ("/twilio/voice", "twilio_voice"),
    ("/chat/messages", "webchat"),
)
NOT_ATTEMPTED = ("queued", "assigned")  # an attempt meets the SLA: only these can be overdue


def route_label(path: str) -> str | None:
    for prefix, label in TIMED:
        if path == prefix or path.startswith(prefix + "/"):
            return label
    return None


class WebhookTiming:
    """ASGI middleware: the webhook latency histogram, labelled by route and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        label = route_label(scope["path"]) if scope["type"] == "http" else None
        if label is None:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            metrics.WEBHOOK_SECONDS.labels(label, str(status)).observe(seconds)


class _Gauges(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


async def store_gauges(services: Helpline, session: AsyncSession) -> list[Metric]:
    """The service's state as the store has it: a handful of aggregate queries."""
    now = services.now()
    outbox = await outbox_state(session, now)
    backlog = GaugeMetricFamily(
        "helpline_outbox_backlog", "Outbox rows pending or being sent", labels=["channel"]
    )
    for channel, count in sorted(outbox.backlog.items()):
        backlog.add_metric([channel], count)
    oldest = outbox.oldest_due.total_seconds() if outbox.oldest_due else 0.0
    is_open = Callback.status.in_(OPEN_STATUSES)
    open_count, urgent_count = (
        await session.execute(
            select(func.count(), func.count().filter(Callback.urgent.is_(True))).where(is_open)
        )
    ).one()
    overdue = await session.scalar(
        select(func.count()).where(Callback.status.in_(NOT_ATTEMPTED), Callback.due_at < now)
    )
    failures = await session.scalar(
        select(func.count()).where(
            LoginAttempt.key.startswith("addr:"),  # one row of each kind per attempt
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > now - timedelta(hours=1),
        )
    )
    leads = await scheduler_leads(session, services.settings, now)
    jobs = GaugeMetricFamily(
        "helpline_job_last_success_timestamp_seconds",
        "When each scheduled job last finished well (Unix time)",
        labels=["job"],
    )
    for name, at in sorted((await jobruns.last_successes(session)).items()):
        jobs.add_metric([name], at.timestamp())
    return [
        backlog,
        gauge("helpline_outbox_oldest_due_seconds", "Age of the oldest due outbox row", oldest),
        gauge("helpline_callbacks_open", "Open callbacks", open_count),
        gauge("helpline_callbacks_urgent", "Open callbacks flagged urgent", urgent_count),
        gauge("helpline_callbacks_overdue", "Callbacks past due with no attempt", overdue or 0),
        gauge("helpline_login_failures_last_hour", "Failed staff sign-ins", failures or 0),
        gauge("helpline_scheduler_leader", "1 when some scheduler leads", 1.0 if leads else 0.0),
        jobs,
    ]


def routes(services: Helpline) -> list[Route]:
    token = services.settings.metrics_token.encode()

    async def scrape(request: Request) -> Response:
        if not token:
            return PlainTextResponse("Not Found", status_code=404)
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.casefold() != "bearer" or not hmac.compare_digest(given.encode(), token):
            headers = {"WWW-Authenticate": "Bearer"}
            return PlainTextResponse("a bearer token is required", 401, headers=headers)
        body = generate_latest(metrics.REGISTRY)
        try:
            async with services.sessions() as session:
                families = await store_gauges(services, session)
        except Exception:  # the counters still help when the database is away
            families = [gauge("helpline_store_up", "1 when the store answered", 0.0)]
        else:
            families.append(gauge("helpline_store_up", "1 when the store answered", 1.0))
        scraped = CollectorRegistry()
        scraped.register(_Gauges(families))
        body += generate_latest(scraped)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", scrape, methods=["GET"])]
