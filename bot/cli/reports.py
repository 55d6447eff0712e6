"""`helpline report` and `helpline import`: the manager's tables from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.conversation.helpline import Helpline
from bot.core.errors import HelplineError
from bot.reports.categories import Categories
from bot.reports.history import ImportRefused, import_history
from bot.reports.periods import Period, academic_year, current_academic_year, parse_day
from bot.reports.render import render
from bot.reports.report import build_report

MIN_YEAR = 1990


def period_from(args: argparse.Namespace, timezone: str, today: date) -> Period:
    """--from and --to, or --year, or else the academic year under way."""
    if args.year is not None and (args.start or args.end):
        raise HelplineError("give either --year or --from and --to, not both")
    if bool(args.start) != bool(args.end):
        raise HelplineError("give both --from and --to (or --year, or neither for this year)")
    try:
        if args.start:
            start, end = parse_day(args.start, "--from"), parse_day(args.end, "--to")
        elif args.year is not None:
            if not MIN_YEAR <= args.year <= today.year:
                raise ValueError(
                    f"--year {args.year} is not a year from {MIN_YEAR} to {today.year}"
                )
            start, end = academic_year(args.year)
        else:
            start, end = current_academic_year(today)
        return Period(start, end, timezone)
    except ValueError as exc:
        raise HelplineError(str(exc)) from None


async def report(services: Helpline, args: argparse.Namespace) -> int:
    today = services.clock.local_date(services.now())
    period = period_from(args, services.settings.timezone, today)
    text = render(await build_report(services, period), args.format, services.settings.service_name)
    if args.output:
        try:
            await asyncio.to_thread(Path(args.output).write_text, text, "utf-8", None, "")
        except OSError as exc:
            raise HelplineError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"report written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def progress_bar(stream: TextIO, label: str = "importing") -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        filled = round(30 * done / total) if total else 30
        stream.write(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return show


async def import_file(services: Helpline, args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        raise HelplineError(f"cannot read {path}: {exc.strerror}") from None
    names = Categories.from_settings(services.settings)
    try:
        count = await import_history(
            services.sessions, data, names, services.now(), progress_bar(sys.stderr)
        )
    except ImportRefused as exc:
        raise HelplineError(f"{path}: {exc}") from None
    print(f"imported {count} historical case(s) from {path}")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "report",
        help="the KPIs and annual-report tables (default: this academic year, Sept to July)",
    )
    p.add_argument("--from", dest="start", metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="end", metavar="YYYY-MM-DD")
    p.add_argument(
        "--year",
        type=int,
        metavar="YYYY",
        help="the academic year starting in September of YYYY (2010 means 2010-11)",
    )
    p.add_argument("--format", choices=("html", "csv", "md"), default="html")
    p.add_argument("--output", metavar="FILE", help="write here instead of standard output")
    p.set_defaults(run=report)
    p = commands.add_parser("import", help="import past cases (CSV) from the old database")
    p.add_argument("file", metavar="FILE.csv")
    p.set_defaults(run=import_file)
