"""The report's charts as hand-written SVG: no plotting library, readable without colour.

Every chart has a <title> and a <desc> (read by screen readers, named by aria-labelledby), and
every bar, point and cell carries its number as text, so nothing depends on colour alone.
"""

from __future__ import annotations

from collections import Counter
from html import escape

from bot.reports.report import Report
from bot.reports.responses import RESPONSE_TARGET, ResponseShare

NOW_FILL, BEFORE_FILL, LINE = "#1d70b8", "#b1b4b6", "#0b0c0c"
FONT = 'font-family="Arial, sans-serif" font-size="12"'
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _open(slug: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{slug}-title {slug}-desc" class="chart" {FONT}>',
        f'<title id="{slug}-title">{escape(title)}</title>',
        f'<desc id="{slug}-desc">{escape(desc)}</desc>',
    ]


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def cases_year_on_year(report: Report) -> str:
    """Horizontal bars: each category's cases this period (solid) and a year earlier (grey)."""
    now, before = report.current.cases, report.previous.cases
    names = list(report.names.cases) + sorted((set(now) | set(before)) - set(report.names.cases))
    top = max([1, *now.values(), *before.values()])
    left, bar, gap, width = 190, 9, 8, 720
    scale = (width - left - 60) / top
    height = 50 + len(names) * (2 * bar + gap)
    now_label, before_label = report.period.label, report.earlier.label
    busiest = ", ".join(f"{n} {c}" for n, c in now.most_common(3)) or "no cases"
    parts = _open(
        "chart-cases",
        width,
        height,
        f"Cases by issue: {now_label} against {before_label}",
        f"{sum(now.values())} cases against {sum(before.values())} a year earlier. "
        f"Most cases: {busiest}.",
    )
    parts += [
        f'<rect x="{left}" y="8" width="12" height="12" fill="{NOW_FILL}"/>',
        _text(left + 16, 18, now_label),
        f'<rect x="{left + 230}" y="8" width="12" height="12" fill="{BEFORE_FILL}"/>',
        _text(left + 246, 18, before_label),
    ]
    y = 36
    for name in names:
        parts.append(_text(left - 6, y + bar + 3, name, "end"))
        for count, fill in ((now[name], NOW_FILL), (before[name], BEFORE_FILL)):
            length = count * scale
            parts.append(
                f'<rect x="{left}" y="{y}" width="{length:.1f}" height="{bar}" fill="{fill}">'
                f"<title>{escape(name)}: {count}</title></rect>"
            )
            parts.append(_text(left + length + 4, y + bar - 1, str(count), extra=' font-size="10"'))
            y += bar
        y += gap
    parts.append("</svg>")
    return "\n".join(parts)


def weekly_share(report: Report) -> str:
    """The weekly share of contacts attempted within target, against the target line."""
    weeks: list[ResponseShare] = report.weeks
    left, top, plot_w, plot_h = 50, 20, 640, 200
    width, height = left + plot_w + 20, top + plot_h + 70
    step = plot_w / max(1, len(weeks) - 1) if len(weeks) > 1 else 0

    def y_of(share: float) -> float:
        return top + plot_h * (1 - share)

    met = sum(
        1 for w in weeks if w.attempted_share is not None and w.attempted_share >= RESPONSE_TARGET
    )
    measured = sum(1 for w in weeks if w.attempted_share is not None)
    parts = _open(
        "chart-weekly",
        width,
        height,
        f"Weekly share of contacts answered within target, against {RESPONSE_TARGET:.0%}",
        f"{met} of {measured} weeks with contacts reached the {RESPONSE_TARGET:.0%} target.",
    )
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y_of(tick):.1f}" '
            f'y2="{y_of(tick):.1f}" stroke="#dddddd"/>'
        )
        parts.append(_text(left - 6, y_of(tick) + 4, f"{tick:.0%}", "end"))
    target_y = y_of(RESPONSE_TARGET)
    parts.append(
        f'<line x1="{left}" x2="{left + plot_w}" y1="{target_y:.1f}" '
        f'y2="{target_y:.1f}" stroke="#d4351c" stroke-dasharray="6 4"/>'
    )
    parts.append(_text(left + plot_w, target_y - 4, f"target {RESPONSE_TARGET:.0%}", "end"))
    points = []
    for i, week in enumerate(weeks):
        x = left + i * step if len(weeks) > 1 else left + plot_w / 2
        if week.attempted_share is None:
            parts.append(_text(x, top + plot_h - 4, "–", "middle"))
            continue
        y = y_of(week.attempted_share)
        points.append(f"{x:.1f},{y:.1f}")
        label = (
            f"{week.label}: {week.attempted_share:.0%} ({week.attempted_in_time} of "
            f"{week.attempted_due})"
        )
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{LINE}">'
            f"<title>{escape(label)}</title></circle>"
        )
        if len(weeks) <= 14:
            parts.append(
                _text(x, y - 7, f"{week.attempted_share:.0%}", "middle", ' font-size="10"')
            )
    if len(points) > 1:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="{LINE}"/>')
    if weeks:
        parts.append(_text(left, top + plot_h + 18, weeks[0].label))
        parts.append(_text(left + plot_w, top + plot_h + 18, weeks[-1].label, "end"))
    parts.append("</svg>")
    return "\n".join(parts)


def hour_grid(report: Report) -> str:
    """Contacts by local weekday and hour: a 7 × 24 grid, each cell shaded and numbered."""
    grid = report.hours
    cell, left, top = 28, 40, 30
    width, height = left + 24 * cell + 10, top + 7 * cell + 10
    peak = max(max(row) for row in grid) or 1
    by_slot = Counter({(d, h): grid[d][h] for d in range(7) for h in range(24)})
    busiest = (
        ", ".join(f"{DAYS[d]} {h:02d}:00 ({c})" for (d, h), c in by_slot.most_common(3) if c)
        or "no contacts"
    )
    parts = _open(
        "chart-hours",
        width,
        height,
        "Contacts by hour of the week",
        f"{sum(map(sum, grid))} contacts by local day and hour. Busiest: {busiest}.",
    )
    for hour in range(24):
        parts.append(
            _text(
                left + hour * cell + cell / 2, top - 8, f"{hour:02d}", "middle", ' font-size="10"'
            )
        )
    for day, row in enumerate(grid):
        y = top + day * cell
        parts.append(_text(left - 6, y + cell / 2 + 4, DAYS[day], "end"))
        for hour, count in enumerate(row):
            x = left + hour * cell
            shade = count / peak
            fill = f"rgba(29,112,184,{0.08 + 0.92 * shade:.2f})" if count else "#ffffff"
            ink = "#ffffff" if shade > 0.55 else "#0b0c0c"
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{fill}" '
                f'stroke="#dddddd"><title>{DAYS[day]} {hour:02d}:00: {count}</title></rect>'
            )
            parts.append(
                _text(
                    x + cell / 2,
                    y + cell / 2 + 4,
                    str(count),
                    "middle",
                    f' font-size="10" fill="{ink}"',
                )
            )
    parts.append("</svg>")
    return "\n".join(parts)


def all_charts(report: Report) -> list[str]:
    return [cases_year_on_year(report), weekly_share(report), hour_grid(report)]
