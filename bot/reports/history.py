"""`helpline import FILE.csv`: past cases from the service's old database.

Every row is checked before anything is written, and the rows go in with one transaction: a file
with any bad row is refused whole, with each bad row's line number, so nothing is half-imported.
A file already imported (same SHA-256) is refused, so history is never counted twice.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.reports.categories import Categories
from storage.models import HistoricalCase

COLUMNS = ("date", "category", "actions", "action_category", "how_heard")
CHUNK = 500
MAX_ERRORS_SHOWN = 50
Progress = Callable[[int, int], None]


class ImportRefused(ValueError):
    """The file cannot be imported; the message lists every reason with its line number."""


@dataclass
class Checked:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _date(value: str, today: date) -> date:
    value = value.strip()
    try:
        day = (
            datetime.strptime(value, "%d/%m/%Y").date()
            if "/" in value
            else date.fromisoformat(value)
        )
    except ValueError:
        raise ValueError(f"date {value!r} is not YYYY-MM-DD or DD/MM/YYYY") from None
    if day > today:
        raise ValueError(f"date {value} is in the future")
    return day


def _row(record: dict[str, str], names: Categories, today: date) -> dict[str, Any]:
    """One CSV record as a HistoricalCase row, or ValueError with every problem in it."""
    problems: list[str] = []
    row: dict[str, Any] = {}
    try:
        row["received_on"] = _date(record["date"], today)
    except ValueError as exc:
        problems.append(str(exc))
    category = names.lookup_case(record["category"])
    if category is None:
        problems.append(f"category {record['category'].strip()!r} is not in the category list")
    row["category"] = category
    raw_actions = record["actions"].strip() or "0"
    actions = int(raw_actions) if raw_actions.isdigit() else -1
    if actions < 0:
        problems.append(f"actions {raw_actions!r} is not a whole number of 0 or more")
    row["actions"] = actions
    action_raw = record["action_category"].strip()
    row["action_category"] = names.lookup_action(action_raw) if action_raw else None
    if action_raw and row["action_category"] is None:
        problems.append(f"action_category {action_raw!r} is not in the action list")
    if actions > 0 and not action_raw:
        problems.append("actions given without an action_category")
    heard = record["how_heard"].strip()
    if len(heard) > 64:
        problems.append("how_heard is longer than 64 characters")
    row["heard_from"] = heard or None
    if problems:
        raise ValueError("; ".join(problems))
    return row


def check(text: str, names: Categories, today: date) -> Checked:
    """Read and validate every row; bad rows are collected, never skipped silently."""
    checked = Checked()
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().casefold() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        checked.errors.append(f"line 1: missing column(s) {', '.join(missing)}")
        return checked
    reader.fieldnames = header
    line = 1
    for record in reader:
        start, line = line + 1, reader.line_num
        if None in record or any(record.get(c) is None for c in COLUMNS):
            checked.errors.append(f"line {start}: wrong number of fields")
            continue
        if not any(str(v).strip() for v in record.values()):
            continue  # a blank line
        try:
            checked.rows.append(_row(record, names, today))
        except ValueError as exc:
            checked.errors.append(f"line {start}: {exc}")
    if not checked.rows and not checked.errors:
        checked.errors.append("the file has no rows to import")
    return checked


async def import_history(
    sessions: async_sessionmaker[AsyncSession],
    data: bytes,
    names: Categories,
    now: datetime,
    progress: Progress = lambda done, total: None,
) -> int:
    """Validate the whole file, then insert every row in one transaction; returns the count."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"the file is not UTF-8 text (byte {exc.start})") from None
    checked = check(text, names, now.date())
    if checked.errors:
        shown = checked.errors[:MAX_ERRORS_SHOWN]
        more = len(checked.errors) - len(shown)
        lines = [f"{len(checked.errors)} bad row(s); nothing was imported:", *shown]
        if more:
            lines.append(f"... and {more} more")
        raise ImportRefused("\n".join(lines))
    batch = hashlib.sha256(data).hexdigest()
    total = len(checked.rows)
    async with sessions.begin() as session:
        already = await session.scalar(
            select(HistoricalCase.imported_at).where(HistoricalCase.import_batch == batch).limit(1)
        )
        if already is not None:
            raise ImportRefused(f"this file was already imported on {already:%Y-%m-%d %H:%M} UTC")
        for done in range(0, total, CHUNK):
            chunk = checked.rows[done : done + CHUNK]
            await session.execute(
                insert(HistoricalCase),
                [{**row, "imported_at": now, "import_batch": batch} for row in chunk],
            )
            progress(done + len(chunk), total)
    return total
