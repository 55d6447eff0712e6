"""The report's tables as plain rows of text, shared by the HTML, CSV and Markdown outputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from bot.core.i18n import LANGUAGE_NAMES
from bot.reports.report import Report
from bot.reports.responses import RESPONSE_TARGET, SATISFACTION_TARGET, ResponseShare


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    slug: str = ""


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def hours(value: timedelta | None) -> str:
    """Working time as "3 h 05 min"."""
    if value is None:
        return "–"
    minutes = round(value.total_seconds() / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def _verdict(share: float | None, target: float) -> str:
    if share is None:
        return "no data"
    return "achieved" if share >= target else "not achieved"


def kpis(report: Report) -> Table:
    answered = _totals(report.months)
    rated = report.satisfaction
    rows = [
        [
            f"{RESPONSE_TARGET:.0%} of contacts get a first attempt within the target",
            percent(answered.attempted_share),
            f"{answered.attempted_in_time} of {answered.attempted_due}",
            _verdict(answered.attempted_share, RESPONSE_TARGET),
        ],
        [
            f"{RESPONSE_TARGET:.0%} of contacts spoken to within the target",
            percent(answered.spoke_share),
            f"{answered.spoke_in_time} of {answered.spoke_due}",
            _verdict(answered.spoke_share, RESPONSE_TARGET),
        ],
        [
            f"{SATISFACTION_TARGET:.0%} level of satisfaction (rating 4 or 5 of 5)",
            percent(rated.share),
            f"{rated.satisfied} of {rated.responses}",
            _verdict(rated.share, SATISFACTION_TARGET),
        ],
        [
            "Median time to first response (working hours)",
            hours(report.times.median),
            f"{report.times.responded} responded",
            "",
        ],
        [
            "90th percentile time to first response (working hours)",
            hours(report.times.p90),
            f"{report.times.responded} responded",
            "",
        ],
    ]
    return Table(
        "Key performance indicators",
        ["Performance indicator", "Outcome", "Count", "Target"],
        rows,
        ["Contacts not yet attempted and not yet due are left out until they are."],
        "kpis",
    )


def _totals(shares: list[ResponseShare]) -> ResponseShare:
    return ResponseShare(
        "Total",
        *(
            sum(getattr(s, f) for s in shares)
            for f in (
                "contacts",
                "attempted_due",
                "attempted_in_time",
                "spoke_due",
                "spoke_in_time",
            )
        ),
    )


def monthly(report: Report) -> Table:
    rows = [
        [
            s.label,
            str(s.contacts),
            f"{s.attempted_in_time} of {s.attempted_due}",
            percent(s.attempted_share),
            f"{s.spoke_in_time} of {s.spoke_due}",
            percent(s.spoke_share),
        ]
        for s in [*report.months, _totals(report.months)]
    ]
    headers = ["Month", "Contacts", "Attempted in target", "%", "Spoke in target", "%"]
    return Table("Responses within target by month", headers, rows, slug="monthly")


def _side_by_side(names: Iterable[str], now: Counter[str], before: Counter[str]) -> list[list[str]]:
    """Every listed name (zeros included), then any other name found, then the total."""
    listed = list(names)
    extra = sorted((set(now) | set(before)) - set(listed))
    rows = [[name, str(now[name]), str(before[name])] for name in [*listed, *extra]]
    rows.append(["Total", str(sum(now.values())), str(sum(before.values()))])
    return rows


def cases(report: Report) -> Table:
    headers = ["Description", f"Cases {report.period.label}", f"Cases {report.earlier.label}"]
    rows = _side_by_side(report.names.cases, report.current.cases, report.previous.cases)
    notes = [f"Includes {report.current.imported} and {report.previous.imported} imported cases."]
    return Table("Cases breakdown by issue", headers, rows, notes, "cases")


def actions(report: Report) -> Table:
    headers = ["Description", f"Actions {report.period.label}", f"Actions {report.earlier.label}"]
    rows = _side_by_side(report.names.actions, report.current.actions, report.previous.actions)
    return Table("Actions breakdown by issue", headers, rows, slug="actions")


def heard(report: Report) -> Table:
    now, before = report.current.heard_from, report.previous.heard_from
    names = sorted(set(now) | set(before), key=lambda n: (-now[n], n))
    headers = ["How heard", report.period.label, report.earlier.label]
    return Table(
        "How callers heard about the service",
        headers,
        _side_by_side(names, now, before),
        slug="heard",
    )


def sen_nci(report: Report) -> Table:
    def groups(counts: Counter[str], group: object) -> Counter[str]:
        found: Counter[str] = Counter()
        for name, count in counts.items():
            found[group(name)] += count  # type: ignore[operator]
        return found

    names = report.names
    c_now, c_before = (groups(b.cases, names.case_group) for b in (report.current, report.previous))
    a_now, a_before = (
        groups(b.actions, names.action_group) for b in (report.current, report.previous)
    )
    rows = [
        [g, str(c_now[g]), str(a_now[g]), str(c_before[g]), str(a_before[g])]
        for g in ("SEN", "NCI", "Other")
    ]
    headers = [
        "Issue",
        f"Cases {report.period.label}",
        f"Actions {report.period.label}",
        f"Cases {report.earlier.label}",
        f"Actions {report.earlier.label}",
    ]
    notes = ["SEN: " + ", ".join(names.sen_cases), "NCI: " + ", ".join(names.nci_cases)]
    return Table("SEN against non-curriculum issues", headers, rows, notes, "sen-nci")


def _shares(title: str, slug: str, counts: Counter[str], label: dict[str, str]) -> Table:
    total = sum(counts.values())
    rows = [
        [label.get(name, name), str(count), percent(count / total)]
        for name, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return Table(
        title, [title.split(" by ")[-1].capitalize(), "Contacts", "Share"], rows, slug=slug
    )


def contacts(report: Report) -> list[Table]:
    now = report.current

    def share(count: int) -> str:
        return percent(count / now.contacts) if now.contacts else "–"

    profile = Table(
        "Contacts through the helpline",
        ["Measure", "Contacts", "Share"],
        [
            ["Contacts received", str(now.contacts), share(now.contacts)],
            [
                "Received while the office was closed",
                str(now.out_of_hours),
                share(now.out_of_hours),
            ],
            ["Urgent (safeguarding)", str(now.urgent), share(now.urgent)],
        ],
        slug="contacts",
    )
    return [
        profile,
        _shares("Contacts by channel", "channels", now.channels, {}),
        _shares("Contacts by language", "languages", now.languages, LANGUAGE_NAMES),
    ]


def all_tables(report: Report) -> list[Table]:
    return [
        kpis(report),
        monthly(report),
        cases(report),
        actions(report),
        sen_nci(report),
        heard(report),
        *contacts(report),
    ]
