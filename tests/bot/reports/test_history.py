"""`helpline import`: all rows or none, each bad row named by its line."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from bot.core.services import Services
from bot.reports.categories import Categories
from bot.reports.history import ImportRefused, import_history
from storage.models import HistoricalCase

GOOD = (
    "date,category,actions,action_category,how_heard\n"
    "2025-09-01,SEN,4,SEN,School\n"
    "02/09/2025,Bullying – Racial,2,nci,\n"
    '2025-09-03,sen provision/funding,0,,"Leaflet, library"\n'
    "\n"
    "2025-09-04,Education at Home,1,Education at Home,GP\n"
)
BAD = (
    "date,category,actions,action_category,how_heard\n"
    "2025-09-01,SEN,4,SEN,School\n"
    "2025-13-01,SEN,1,SEN,\n"
    "2025-09-03,Knitting,1,SEN,\n"
    "2025-09-04,SEN,lots,SEN,\n"
    "2025-09-05,SEN,3,,\n"
    "2025-09-06,SEN,1,SEN\n"
    "2099-01-01,SEN,0,,\n"
)


async def _count(services: Services) -> int:
    async with services.sessions() as session:
        return int(await session.scalar(select(func.count(HistoricalCase.id))) or 0)


async def test_a_good_file_imports_every_row_once(services: Services) -> None:
    seen: list[tuple[int, int]] = []
    count = await import_history(
        services.sessions,
        GOOD.encode("utf-8-sig"),
        Categories(),
        services.now(),
        lambda done, total: seen.append((done, total)),
    )
    assert count == 4 and await _count(services) == 4
    assert seen[-1] == (4, 4)
    async with services.sessions() as session:
        rows = (await session.scalars(select(HistoricalCase).order_by(HistoricalCase.id))).all()
    assert [r.received_on for r in rows][:2] == [date(2025, 9, 1), date(2025, 9, 2)]
    assert [r.category for r in rows] == [
        "SEN",
        "Bullying – Racial",
        "SEN Provision/Funding",
        "Education at Home",
    ]
    assert rows[1].action_category == "NCI" and rows[2].heard_from == "Leaflet, library"
    with pytest.raises(ImportRefused, match="already imported"):
        await import_history(
            services.sessions, GOOD.encode("utf-8-sig"), Categories(), services.now()
        )
    assert await _count(services) == 4


async def test_a_bad_file_imports_nothing_and_names_each_line(services: Services) -> None:
    with pytest.raises(ImportRefused) as refused:
        await import_history(services.sessions, BAD.encode(), Categories(), services.now())
    message = str(refused.value)
    assert "6 bad row(s); nothing was imported" in message
    assert "line 3: date '2025-13-01'" in message
    assert "line 4: category 'Knitting'" in message
    assert "line 5: actions 'lots'" in message
    assert "line 6: actions given without an action_category" in message
    assert "line 7: wrong number of fields" in message
    assert "line 8: date 2099-01-01 is in the future" in message
    assert "line 2" not in message
    assert await _count(services) == 0


async def test_missing_columns_and_empty_files_are_refused(services: Services) -> None:
    with pytest.raises(ImportRefused, match="missing column"):
        await import_history(
            services.sessions, b"date,category\n2025-01-01,SEN\n", Categories(), services.now()
        )
    with pytest.raises(ImportRefused, match="no rows"):
        await import_history(
            services.sessions,
            b"date,category,actions,action_category,how_heard\n",
            Categories(),
            services.now(),
        )
    with pytest.raises(ImportRefused, match="not UTF-8"):
        await import_history(services.sessions, b"\xff\xfe\x00date", Categories(), services.now())
    assert await _count(services) == 0
