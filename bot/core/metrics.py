"""The service's counters, kept in each process's memory so the message path pays a dict update.

/metrics (bot.web.metrics) adds the gauges read from the store at scrape time. Labels are
channels, outcomes, routes and error kinds: never an address, a name or a message.
"""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()
MESSAGES_IN = Counter(
    "helpline_messages_in",
    "Deliveries from contacts committed to the inbox, by channel and outcome (new, redelivery)",
    ["channel", "outcome"],
    registry=REGISTRY,
)
MESSAGES_OUT = Counter(
    "helpline_messages_out",
    "Messages out by channel and outcome: replied (in the webhook's answer), or the outbox's"
    " sent, failed, suppressed, retry",
    ["channel", "outcome"],
    registry=REGISTRY,
)
SEND_FAILURES = Counter(
    "helpline_send_failures",
    "Outbox sends that failed or will be retried, by channel and kind of error",
    ["channel", "kind"],
    registry=REGISTRY,
)
WEBHOOK_SECONDS = Histogram(
    "helpline_webhook_seconds",
    "Time to answer a provider's webhook or a web chat post, by route and HTTP status",
    ["route", "status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0),
    registry=REGISTRY,
)
_WORDS = re.compile(r"[^a-z0-9]+")


def failure_kind(error: str | None) -> str:
    """A short, bounded label for an outbox error ("twilio 21610" -> "twilio_21610")."""
    head = (error or "unknown").split("(", 1)[0].casefold()
    return _WORDS.sub("_", head).strip("_")[:40] or "unknown"


def replied(channel: str, count: int) -> None:
    """Replies that ride back in the webhook's own answer (TwiML, the web chat's JSON)."""
    if count:
        MESSAGES_OUT.labels(channel, "replied").inc(count)


def sent(channel: str, status: str, error: str | None = None) -> None:
    """One outbox row settled: sent, failed, suppressed, or pending again (a retry)."""
    outcome = "retry" if status == "pending" else status
    MESSAGES_OUT.labels(channel, outcome).inc()
    if outcome in {"failed", "retry"}:
        SEND_FAILURES.labels(channel, failure_kind(error)).inc()
