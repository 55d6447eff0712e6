"""Rows the message path reads and writes with one Core statement each, and then works with
as ORM objects.

The ORM's unit of work (flush, identity bookkeeping, RETURNING the key) and its query layer
cost more CPU than the SQL itself on a path that touches a few rows a message; these rows are
read, inserted and updated as plain SQL and handed to the session as already stored, so other
changes still flush as UPDATEs and everything stays in the caller's transaction.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    Update,
    bindparam,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

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
    for name, value in values.items():  # unset ones are NULL (else they would load as expired)
        if name not in row.__dict__:
            setattr(row, name, value)
    connection = await session.connection()
    key: int = (await connection.execute(statement, values)).scalar_one()
    return stored(session, row, key)


@cache
def _columns(model: type[Base]) -> tuple[Table, tuple[str, ...]]:
    table = cast(Table, model.__table__)
    return table, tuple(c.key for c in inspect(model).column_attrs)


def selecting(model: type[Base], *where: ColumnElement[bool], locked: bool = False) -> Select[Any]:
    """A prebuilt Core SELECT of `model`'s columns (build it once, at import), for `load`."""
    table, names = _columns(model)
    statement = select(*(table.c[name] for name in names)).where(*where)
    return statement.with_for_update() if locked else statement


async def load(
    session: AsyncSession, model: type[Row], statement: Select[Any], values: dict[str, Any]
) -> Row | None:
    """The one `model` row `statement` (from `selecting`) finds, as an ORM object in the
    session: the one already there if the session holds it, else built from the row. Like an
    ORM query, it first writes what the session holds unsaved (a row added a moment ago)."""
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    found = (await connection.execute(statement, values)).first()
    if found is None:
        return None
    columns = dict(zip(_columns(model)[1], found, strict=True))
    held = session.identity_map.get(inspect(model).identity_key_from_primary_key((columns["id"],)))
    if held is not None:
        return cast(Row, held)
    key = columns.pop("id")
    row = model(**columns)
    return stored(session, row, key)


@cache
def _update(model: type[Base], names: tuple[str, ...]) -> Update:
    table = _columns(model)[0]
    statement = update(table).where(table.c.id == bindparam("row_id"))
    return statement.values({name: bindparam(f"new_{name}") for name in names})


async def update_row(session: AsyncSession, row: Row, **values: Any) -> None:
    """UPDATE these columns of a stored `row` in one statement; the object takes the values
    as already saved, so no flush writes them again."""
    statement = _update(type(row), tuple(values))
    connection = await session.connection()
    given = {f"new_{name}": value for name, value in values.items()}
    await connection.execute(statement, {"row_id": row.id, **given})  # type: ignore[attr-defined]
    for name, value in values.items():
        set_committed_value(row, name, value)
