"""Seed a PostgreSQL store fast with bulk SQL (generate_series): enquiries and their callbacks.

Encrypted columns hold real Fernet tokens made with the bench keys, one per distinct value and
reused, so pages and the digest decrypt as they would in service. Enquiry ids 1..`open` have
open callbacks (due from two days ago to two days ahead, 1 in 20 urgent, queued ones unassigned);
the rest are closed, received every 90 seconds back in time, 96% answered within target.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import asyncpg

from bench.servers import helpline_env

PASSWORD = "bench-officer-password-1234"
OFFICERS = 8
TOPICS = ["sen_support", "ehc", "tribunal", "exclusion", "bullying", "admissions",
          "home_education", "attendance_transport", "other"]  # fmt: skip


async def migrate(url: str) -> None:
    """Create the schema exactly as `helpline serve` would, with the bench keys."""
    os.environ.update(helpline_env(url))
    from bot.core.settings import load_settings
    from bot.wiring import build_services

    services = build_services(load_settings())
    try:
        await services.migrate()
    finally:
        await services.close()


def tokens() -> dict[str, str]:
    from storage import crypto

    return {
        "age": crypto.encrypt("Year 4"),
        "description": crypto.encrypt("The school says they cannot meet his needs."),
        "phone": crypto.encrypt("+447700900123"),
        "phone_hash": crypto.lookup_hash("+447700900123"),
        "answers": json.dumps(crypto.encrypt(json.dumps({"asker": "parent"}))),
    }


async def seed(url: str, enquiries: int, open_callbacks: int, now: datetime) -> float:
    """Staff (officers 1..8, a manager), `enquiries` enquiries and callbacks; returns seconds."""
    from bot.domain.passwords import hash_password

    started = time.perf_counter()
    made = tokens()
    password = hash_password(PASSWORD)
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute("SET synchronous_commit = off")
        await connection.executemany(
            "INSERT INTO staff (id, email, name, role, password_hash, languages, active, "
            "session_version, created_at) VALUES ($1, $2, $3, $4, $5, 'en', true, 1, $6)",
            [
                (n, f"officer{n}@bench.invalid", f"Officer {n}", "officer", password, now)
                for n in range(1, OFFICERS + 1)
            ]
            + [(OFFICERS + 1, "manager@bench.invalid", "Manager", "manager", password, now)],
        )
        await connection.execute(
            """
            INSERT INTO enquiry (id, reference, channel, language, received_at, asker, topic,
                stage, child_age, setting, description, callback_phone, callback_phone_hash,
                best_time, urgent, incomplete, status, legal_hold, answers, closed_at, outcome)
            SELECT i, 'BN-' || lpad(i::text, 8, '0'),
                (ARRAY['sms','telegram','webchat','voice','whatsapp'])[1 + i % 5],
                (ARRAY['en','en','en','pl','ur','ar'])[1 + i % 6],
                CASE WHEN i <= $2::int THEN $1::timestamptz - make_interval(mins => i % 4320)
                     ELSE $1::timestamptz - make_interval(secs => 90.0 * i) END,
                'parent', ($7::text[])[1 + i % 9], 'ehc_assessment', $3, 'primary', $4, $5, $6,
                'morning', i % 20 = 0, false,
                CASE WHEN i <= $2::int THEN 'open' ELSE 'closed' END, false, $8::json,
                CASE WHEN i <= $2::int THEN NULL
                     ELSE $1::timestamptz - make_interval(secs => 90.0 * i - 86400) END,
                CASE WHEN i <= $2::int THEN NULL ELSE 'advice given' END
            FROM generate_series(1, $9::int) AS i
            """,
            now, open_callbacks, made["age"], made["description"], made["phone"],
            made["phone_hash"], TOPICS, made["answers"], enquiries,
        )  # fmt: skip
        await connection.execute(
            """
            INSERT INTO callback (id, enquiry_id, status, urgent, clock_started_at, due_at,
                assigned_to, first_attempt_at, met_target, unanswered_attempts, closed_at,
                created_at)
            SELECT e.id, e.id, s.status, e.urgent, e.received_at, s.due,
                CASE WHEN s.status = 'queued' THEN NULL ELSE 1 + e.id % $2::int END,
                CASE WHEN s.status = 'attempted' THEN s.due - interval '1 hour'
                     WHEN s.status = 'closed' THEN s.due + make_interval(
                        hours => CASE WHEN e.id % 25 = 0 THEN 3 ELSE -2 END) END,
                CASE WHEN s.status = 'closed' THEN e.id % 25 <> 0 END,
                0, e.closed_at, e.received_at
            FROM enquiry e, LATERAL (SELECT
                CASE WHEN e.id <= $3::int
                     THEN (ARRAY['queued','assigned','attempted'])[1 + e.id % 3]
                     ELSE 'closed' END AS status,
                CASE WHEN e.id <= $3::int
                     THEN $1::timestamptz - interval '2 days'
                        + make_interval(secs => (e.id * 3457) % 345600)
                     ELSE e.received_at + interval '1 day' END AS due) s
            """,
            now, OFFICERS, open_callbacks,
        )  # fmt: skip
        for table in ("staff", "enquiry", "callback"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE staff; ANALYZE enquiry; ANALYZE callback")
    finally:
        await connection.close()
    return time.perf_counter() - started


def utcnow() -> datetime:
    return datetime.now(UTC)
