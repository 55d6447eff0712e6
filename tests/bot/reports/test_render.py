"""The report's outputs: HTML with its SVG charts, Markdown, and CSV safe for spreadsheets."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

from bot.core.services import Services
from bot.reports import Period, build_report, report_page
from bot.reports.render import FORMULA_STARTS, csv_text, markdown, render, safe_cell
from storage.models import HistoricalCase

HOSTILE = ['=HYPERLINK("http://x","y")', "+SUM(1)", "-2+3", "@cmd", "\tTAB", "\rCR"]
SVG = "{http://www.w3.org/2000/svg}"


async def _hostile_history(services: Services) -> None:
    async with services.sessions.begin() as session:
        for n, answer in enumerate(HOSTILE):
            session.add(
                HistoricalCase(
                    received_on=date(2026, 10, 1 + n),
                    category="SEN",
                    actions=1,
                    action_category="SEN",
                    heard_from=answer,
                    imported_at=datetime(2026, 11, 1, tzinfo=UTC),
                )
            )


def test_safe_cell_prefixes_formula_starts() -> None:
    for start in FORMULA_STARTS:
        assert safe_cell(f"{start}1") == f"'{start}1"
    assert safe_cell("SEN") == "SEN"
    assert safe_cell("12") == "12"


async def test_csv_cells_cannot_start_a_formula(services: Services) -> None:
    await _hostile_history(services)
    report = await build_report(services, Period(date(2026, 10, 1), date(2026, 10, 31)))
    text = csv_text(report)
    cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    for answer in HOSTILE:
        # Leading whitespace is trimmed from answers; the rest keep their text behind a quote.
        assert ("'" + answer if answer == answer.strip() else answer.strip()) in cells
    assert "Cases breakdown by issue" in cells


async def test_html_report_holds_three_accessible_charts(services: Services) -> None:
    await _hostile_history(services)
    page = render(
        await build_report(services, Period(date(2026, 10, 1), date(2026, 10, 31))),
        "html",
        "Test SENDIASS",
    )
    assert page.startswith("<!doctype html>")
    assert page.count("<svg ") == 3
    assert "=HYPERLINK(&#34;http" in page or "=HYPERLINK(&quot;http" in page  # escaped
    for chunk in page.split("<svg ")[1:]:
        svg = ET.fromstring("<svg " + chunk.split("</svg>")[0] + "</svg>")
        assert svg.get("role") == "img"
        assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
        assert svg.findall(f".//{SVG}text"), "numbers and labels are text, not colour alone"
    assert "target 95%" in page
    assert "Contacts by hour of the week" in page


async def test_report_page_is_a_fragment_for_the_dashboard(services: Services) -> None:
    fragment = await report_page(services, date(2026, 11, 1), date(2026, 11, 30))
    assert fragment.lstrip().startswith("<section") and "<html" not in fragment
    assert fragment.count("<svg ") == 3


async def test_markdown_has_the_annual_report_tables(services: Services) -> None:
    await _hostile_history(services)
    text = markdown(
        await build_report(services, Period(date(2026, 10, 1), date(2026, 10, 31))), "Test"
    )
    assert "## Cases breakdown by issue" in text
    assert "| SEN | 6 | 0 |" in text
    assert "## Actions breakdown by issue" in text
    assert "## SEN against non-curriculum issues" in text
