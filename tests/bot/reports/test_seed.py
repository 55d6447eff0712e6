"""The seed's two years imported: the report gives back every figure of its "Trended Information".

The tables below are copied as they stand from the service's annual report 2010-11 (seeds/),
with its section totals: "PPS supported 593 Cases with regard to SEN" and "654 cases with
regards to NCI".
"""

from __future__ import annotations

import csv
import io
import math
from datetime import date, timedelta

from bot.core.services import Services
from bot.reports import Period, build_report
from bot.reports.categories import Categories
from bot.reports.history import import_history
from bot.reports.tables import actions, cases, sen_nci

CASES = """\
Attendance	44	41
Behaviour	33	65
Bullying	98	94
Bullying – Racial	3	3
Business	37	60
Choice Advice	360	474
Curriculum/Exams	14	20
Education at Home	117	192
Exclusions FT	38	35
Exclusions P	15	9
Information Request	105	123
Mediation	1	5
Medical	23	29
Other	36	69
PPS Business	5	31
PPS Facilities	1	3
PPS Staff Training	8	19
School Policy	63	83
School Staff	43	54
SEN	247	280
SEN Provision/Funding	148	146
Training/Event/Meeting	74	107
Transport	11	13
Total	1524	1955
"""
ACTIONS = """\
Befriender	18	7
Bullying	350	365
Choice Advice	1800	3047
Education at Home	1212	3589
Exclusions	252	220
NCI	1409	1837
Outreach	304	558
PPS	2408	3972
SEN	4311	6159
Total	12064	19754
"""
SEN_CASES_2010_11 = 593
NCI_CASES_2010_11 = 654
ACTIONS_PER_ROW = 20


def _table(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines()]


def _year_rows(first: date, column: int) -> list[list[str]]:
    """One CSV row per case of the year, spread over its days; actions in rows of up to 20."""
    days = (date(first.year + 1, 7, 31) - first).days + 1
    categories = [name for name, *counts in _table(CASES)[:-1] for _ in range(int(counts[column]))]
    pieces = []
    for name, *counts in _table(ACTIONS)[:-1]:
        total = int(counts[column])
        for n in range(math.ceil(total / ACTIONS_PER_ROW)):
            pieces.append((name, min(ACTIONS_PER_ROW, total - n * ACTIONS_PER_ROW)))
    assert len(pieces) <= len(categories)
    rows = []
    for index, category in enumerate(categories):
        day = first + timedelta(days=index % days)
        action, count = pieces[index] if index < len(pieces) else ("", 0)
        rows.append([day.isoformat(), category, str(count), action, ""])
    return rows


def seed_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "category", "actions", "action_category", "how_heard"])
    writer.writerows(_year_rows(date(2010, 9, 1), 0))
    writer.writerows(_year_rows(date(2009, 9, 1), 1))
    return out.getvalue().encode("utf-8")


async def test_the_seed_years_give_back_the_seeds_tables(services: Services) -> None:
    imported = await import_history(services.sessions, seed_csv(), Categories(), services.now())
    assert imported == 1524 + 1955
    report = await build_report(services, Period(date(2010, 9, 1), date(2011, 7, 31)))
    assert cases(report).rows == _table(CASES)
    assert actions(report).rows == _table(ACTIONS)
    sections = {row[0]: row[1:] for row in sen_nci(report).rows}
    assert sections["SEN"][0] == str(SEN_CASES_2010_11)
    assert sections["NCI"][0] == str(NCI_CASES_2010_11)
    assert sections["Other"][0] == str(1524 - SEN_CASES_2010_11 - NCI_CASES_2010_11)
    assert sum(int(row[2]) for row in sections.values()) == 1955
    assert sum(int(row[1]) for row in sections.values()) == 12064
