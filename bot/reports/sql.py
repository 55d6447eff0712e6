"""The few SQL expressions that SQLite and PostgreSQL spell differently (times as numbers)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, cast, extract, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

Time = ColumnElement[Any] | QueryableAttribute[Any]


def dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def epoch(name: str, column: Time) -> ColumnElement[float]:
    """Seconds since 1970 (UTC) of a stored time; SQLite keeps naive UTC text."""
    if name == "sqlite":
        return (func.julianday(column) - 2440587.5) * 86400.0
    return cast(extract("epoch", column), Float)


def utc_weekday(name: str, column: Time) -> ColumnElement[int]:
    """0 = Sunday ... 6 = Saturday, in UTC."""
    if name == "sqlite":
        return cast(func.strftime("%w", column), Integer)
    return cast(extract("dow", func.timezone("UTC", column)), Integer)


def utc_hour(name: str, column: Time) -> ColumnElement[int]:
    if name == "sqlite":
        return cast(func.strftime("%H", column), Integer)
    return cast(extract("hour", func.timezone("UTC", column)), Integer)
