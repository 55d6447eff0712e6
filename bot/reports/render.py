"""The report as an HTML page or fragment (Jinja2), CSV (safe for spreadsheets) or Markdown."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from bot.reports.charts import all_charts
from bot.reports.report import Report
from bot.reports.tables import Table, all_tables

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def html(report: Report, service_name: str, *, page: bool = True) -> str:
    """The whole page (CLI), or a <section> to mount inside the dashboard's layout."""
    template = _env.get_template("report_page.html" if page else "report.html")
    return template.render(
        report=report,
        service_name=service_name,
        tables=all_tables(report),
        # SVG built by charts.py, every text in it escaped there.
        charts=[Markup(svg) for svg in all_charts(report)],  # nosec B704
    )


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ tab or CR would start a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def csv_text(report: Report) -> str:
    """Every table, one after another: its title row, headers, rows, then a blank row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(f"Report {report.period.label}")])
    writer.writerow([])
    for table in all_tables(report):
        writer.writerow([safe_cell(table.title)])
        for row in (table.headers, *table.rows):
            writer.writerow([safe_cell(cell) for cell in row])
        for note in table.notes:
            writer.writerow([safe_cell(note)])
        writer.writerow([])
    return out.getvalue()


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")


def md_table(table: Table) -> str:
    lines = [f"## {table.title}", ""]
    lines.append("| " + " | ".join(_md_cell(h) for h in table.headers) + " |")
    lines.append(
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(table.headers))) + "|"
    )
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    lines += ["", *(f"_{_md_cell(note)}_" for note in table.notes)]
    return "\n".join(lines).rstrip() + "\n"


def markdown(report: Report, service_name: str) -> str:
    head = (
        f"# {service_name}: report {report.period.label}\n\nCompared with {report.earlier.label}.\n"
    )
    return "\n".join([head, *(md_table(t) for t in all_tables(report))])


def render(report: Report, fmt: str, service_name: str) -> str:
    if fmt == "html":
        return html(report, service_name)
    if fmt == "csv":
        return csv_text(report)
    if fmt == "md":
        return markdown(report, service_name)
    raise ValueError(f"unknown format {fmt!r}: expected html, csv or md")
