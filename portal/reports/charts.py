"""Chart geometry for server-rendered inline SVG (templates/reports/_charts.html draws it).

No JavaScript and no external service: the numbers become rectangles and polylines here; the
template adds role="img", a <title>/<desc> and a data table beside each chart for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
# Colours with at least 3:1 contrast against white (WCAG non-text contrast).
SEVERITY_COLOURS = {"critical": "#8a1c1c", "high": "#b35900", "medium": "#1f4e79", "low": "#5f6b76"}
SERIES_COLOURS = ("#1f4e79", "#b35900", "#1d5a2c", "#8a1c1c")


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    label: str


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    rects: list[Rect] = field(default_factory=list)
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (points, colour, name)
    dots: list[tuple[float, float, str, str]] = field(default_factory=list)  # (x, y, colour, label)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, name)
    baseline: float = HEIGHT - BOTTOM


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 4:
            return step * 4
    return value


def _y_ticks(maximum: float, suffix: str = "") -> list[Tick]:
    plot = HEIGHT - TOP - BOTTOM
    return [Tick(LEFT - 6, TOP + plot - plot * i / 4, f"{maximum * i / 4:g}{suffix}") for i in range(5)]


def stacked_bars(categories: list[str], series: list[tuple[str, str, list[int]]]) -> Chart:
    """One bar per category, stacked from `series` [(name, colour, value per category)]."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(categories))]
    maximum = _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar = slot * 0.6
    chart = Chart(y_ticks=_y_ticks(maximum), legend=[(colour, name) for name, colour, _ in series])
    for i, category in enumerate(categories):
        x = LEFT + i * slot + (slot - bar) / 2
        y = TOP + plot_h
        for name, colour, values in series:
            if values[i]:
                height = plot_h * values[i] / maximum
                y -= height
                chart.rects.append(
                    Rect(
                        round(x, 1),
                        round(y, 1),
                        round(bar, 1),
                        round(height, 1),
                        colour,
                        f"{category}: {values[i]} {name}",
                    )
                )
        chart.x_ticks.append(Tick(round(x + bar / 2, 1), HEIGHT - BOTTOM + 18, category))
    return chart


def grouped_bars(
    categories: list[str], series: list[tuple[str, str, list[float | None]]], *, maximum=100.0, suffix="%"
) -> Chart:
    """Bars side by side per category (e.g. last quarter and this quarter), values 0..maximum."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(categories))
    bar = slot * 0.7 / max(1, len(series))
    chart = Chart(y_ticks=_y_ticks(maximum, suffix), legend=[(colour, name) for name, colour, _ in series])
    for i, category in enumerate(categories):
        start = LEFT + i * slot + slot * 0.15
        for j, (name, colour, values) in enumerate(series):
            value = values[i]
            if value is None:
                continue
            height = plot_h * min(value, maximum) / maximum
            chart.rects.append(
                Rect(
                    round(start + j * bar, 1),
                    round(TOP + plot_h - height, 1),
                    round(bar * 0.9, 1),
                    round(height, 1),
                    colour,
                    f"{category}, {name}: {value:g}{suffix}",
                )
            )
        chart.x_ticks.append(Tick(round(LEFT + i * slot + slot / 2, 1), HEIGHT - BOTTOM + 18, category))
    return chart


def line_chart(
    labels: list[str], series: list[tuple[str, str, list[float | None]]], *, maximum=100.0, suffix="%"
) -> Chart:
    """One polyline per series over `labels`; a missing value breaks nothing (the point is left out)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(1, len(labels) - 1) if len(labels) > 1 else 0
    chart = Chart(y_ticks=_y_ticks(maximum, suffix), legend=[(colour, name) for name, colour, _ in series])
    for name, colour, values in series:
        points = []
        for i, value in enumerate(values):
            if value is None:
                continue
            x, y = LEFT + i * step, TOP + plot_h - plot_h * min(value, maximum) / maximum
            points.append(f"{x:.1f},{y:.1f}")
            chart.dots.append((round(x, 1), round(y, 1), colour, f"{labels[i]}, {name}: {value:g}{suffix}"))
        if points:
            chart.lines.append((" ".join(points), colour, name))
    chart.x_ticks = [Tick(round(LEFT + i * step, 1), HEIGHT - BOTTOM + 18, label) for i, label in enumerate(labels)]
    return chart


def dashboard_charts(board) -> dict[str, Chart]:
    """The dashboard's charts from a `services.Dashboard`."""
    from portal.reports.queries import AGE_BUCKETS

    ages = [label for label, _ in AGE_BUCKETS]
    open_cases = stacked_bars(
        ages,
        [
            (
                severity.capitalize(),
                SEVERITY_COLOURS[severity],
                [board.open_count(severity, i) for i in range(len(ages))],
            )
            for severity in board.severities
        ],
    )
    last, this = board.sla
    sla = grouped_bars(
        ["First response", "Resolution"],
        [
            (
                f"Last quarter ({board.quarters[-2].label})",
                SERIES_COLOURS[1],
                [last.first_response_compliance, last.resolution_compliance],
            ),
            (
                f"This quarter ({board.quarters[-1].label})",
                SERIES_COLOURS[0],
                [this.first_response_compliance, this.resolution_compliance],
            ),
        ],
    )
    satisfaction = line_chart(
        [quarter.label for quarter in board.quarters],
        [
            ("CSAT (% rated 4–5)", SERIES_COLOURS[0], [summary.csat for summary in board.trend]),
            ("Response rate", SERIES_COLOURS[1], [summary.response_rate for summary in board.trend]),
        ],
    )
    return {"open_cases": open_cases, "sla": sla, "satisfaction": satisfaction}
