"""Rows the message path writes with one Core INSERT and then works with as ORM objects.

The ORM's unit of work (flush, identity bookkeeping, RETURNING the key) costs more CPU than
the INSERT itself on a path that writes a few rows a message; these rows are inserted as
plain SQL and handed to the session as already stored, so later changes still flush as
UPDATEs and everything stays in the caller's transaction.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Insert, Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from storage.models import Base

Row = TypeVar("Row", bound=Base)


def stored(session: AsyncSession, row: Row, key: int) -> Row:
    """`row` (built, not added) is in its table under `key`: let the session know it."""
    row.id = key  # type: ignore[attr-defined]
    make_transient_to_detached(row)
    session.add(row)
    return row


@cache
def _insert(model: type[Base]) -> tuple[Insert, tuple[str, ...]]:
    """One statement per model, built once (a new statement each time costs its cache key)."""
    table = cast(Table, model.__table__)
    names = tuple(c.key for c in inspect(model).column_attrs if c.key != "id")
    return insert(table).returning(table.c.id), names


async def insert_row(session: AsyncSession, row: Row) -> Row:
    """INSERT the column values set on a new `row` in one statement, RETURNING its key."""
    statement, names = _insert(type(row))
    values: dict[str, Any] = {name: getattr(row, name) for name in names}
    connection = await session.connection()
    key: int = (await connection.execute(statement, values)).scalar_one()
    return stored(session, row, key)
