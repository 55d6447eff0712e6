"""The one-trip SQLite driver: each statement is one hand-off to aiosqlite's thread, and what
SQLAlchemy sees (rows, counts, ids, errors, transactions) is what the stock adapter gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every function aiosqlite hands to its thread, by name."""
    seen: list[str] = []
    handed = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await handed(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return seen


async def test_a_statement_is_one_trip_and_its_results_arrive_whole(
    tmp_path: Path, trips: list[str]
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        trips.clear()
        async with engine.begin() as connection:
            inserted = await connection.execute(
                text("INSERT INTO t (v) VALUES (:v) RETURNING id"), {"v": "a"}
            )
            assert inserted.scalar_one() == 1
            many = await connection.execute(
                text("INSERT INTO t (v) VALUES (:v)"), [{"v": "b"}, {"v": "c"}]
            )
            assert many.rowcount == 2
            changed = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id > 1"))
            assert changed.rowcount == 2
            rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).all()
            assert [r.v for r in rows] == ["a", "b!", "c!"]
        # four statements, four trips, then the commit (no second rollback as it returns)
        assert trips == ["_run"] * 4 + ["commit"]
    finally:
        await engine.dispose()


async def test_errors_and_rollback_behave_as_the_stock_adapter(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'two.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (v TEXT UNIQUE)"))
            await connection.execute(text("INSERT INTO t VALUES ('x')"))
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES ('y')"))
                await connection.execute(text("INSERT INTO t VALUES ('x')"))
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
        assert kept == ["x"]  # the whole failed transaction was rolled back
        # A connection given back mid-transaction (no commit) is rolled back as it closes.
        async with engine.connect() as connection:
            await connection.execute(text("INSERT INTO t VALUES ('z')"))
        async with engine.connect() as connection:
            kept = (await connection.execute(text("SELECT v FROM t"))).scalars().all()
        assert kept == ["x"]
    finally:
        await engine.dispose()
