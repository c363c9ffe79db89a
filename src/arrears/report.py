"""The effect-evaluation report: the KPIs and four charts in one self-contained HTML file.

    >>> from arrears.report import write_html                  # doctest: +SKIP
    >>> write_html(kpis_from_journal(store.chains()), "report.html")  # doctest: +SKIP

The charts are drawn with matplotlib and embedded as inline SVG; the page has
no script, no stylesheet link and no image that is fetched, so it opens
offline, in any browser, and can be mailed or archived as evidence.

Above the charts: the window, the KPI table, what each figure counts (its
population, as ``docs/kpis.md`` defines it) and the roll rates period by
period, a partial period marked as such.

1. **Roll-rate flow**: for each bucket at the start of a complete 30-day
   period, where the cases were at its end (shares of the row, pooled).
2. **Cumulative recovery by day**: the recovery rate at the end of each day,
   one line per group (all cases, and each champion/challenger variant).
3. **Contacts by channel and hour**: in the debtor's local time.
4. **Blocks by rule**: contacts compliance denied, by the rules each denial
   cites (a denial citing two rules counts for both).

With two champion/challenger variants or more, a last section compares them:
each proportion KPI per variant with its 95% interval (drawn as error bars),
each challenger's difference from the champion with its interval and p-value,
and one sentence per KPI and challenger (`arrears.comparison`; it needs
statsmodels, and says so when it is not installed).
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .comparison import INTERVALS_NEED, Comparison, intervals_available
from .kpi import BUCKETS, KpiReport, Kpis

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["charts", "render_html", "write_html"]

_STYLE: Final = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif;
       margin: 2rem auto; max-width: 1100px; color: #1d2330; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
p.meta { color: #5b6475; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0 2rem; }
th, td { padding: 0.3rem 0.8rem; border-bottom: 1px solid #dde1e8; }
th { text-align: left; background: #f3f5f8; }
td.value { text-align: right; font-variant-numeric: tabular-nums; }
td.sub { padding-left: 1.8rem; color: #3b4453; }
ul.notes { color: #3b4453; font-size: 0.92rem; }
section.chart { margin: 1.5rem 0 2.5rem; }
section.chart svg { max-width: 100%; height: auto; }
"""

_COLOURS: Final = ("#2f6db5", "#d9822b", "#3c9a5f", "#b5443b", "#7b5ea7", "#8c6d46")


def _figure(width: float, height: float) -> Figure:
    """A new figure of *width* by *height* inches (matplotlib is imported by the first chart)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[max(0, text.find("<svg")) :]  # the XML prologue and DOCTYPE are not for inline SVG
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if 0 <= start < end:  # the creator's RDF block: nothing a reader needs
        text = text[:start] + text[end + len("</metadata>") :]
    return text


def _roll_flow(kpis: Kpis) -> Figure:
    flows = kpis.flows
    present = [bucket for bucket in BUCKETS if any(bucket in flow for flow in flows)]
    sources = [bucket for bucket in present if bucket != "paid"]
    figure = _figure(7.5, 4.2)
    axes = figure.subplots()
    if not sources:
        text = (
            "no case owed anything at a period's start"
            if kpis.complete_periods
            else "no complete 30-day period in the window"
        )
        axes.text(0.5, 0.5, text, ha="center", va="center")
        axes.set_axis_off()
        return figure
    grid = []
    for source in sources:
        total = sum(flows[source, dest] for dest in present)
        grid.append([flows[source, dest] / total if total else 0.0 for dest in present])
    image = axes.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for row, values in enumerate(grid):
        for column, share in enumerate(values):
            if share:
                colour = "white" if share > 0.6 else "#1d2330"
                axes.text(column, row, f"{share:.0%}", ha="center", va="center", color=colour)
    axes.set_xticks(range(len(present)), present)
    axes.set_yticks(range(len(sources)), sources)
    axes.set_xlabel("bucket at the end of the period")
    axes.set_ylabel("bucket at the start")
    axes.set_title(
        f"Roll-rate flow over {kpis.complete_periods} complete period(s) "
        "(share of each starting bucket)"
    )
    figure.colorbar(image, ax=axes, fraction=0.04)
    return figure


def _recovery(report: KpiReport) -> Figure:
    figure = _figure(7.5, 3.6)
    axes = figure.subplots()
    for index, (name, kpis) in enumerate(report.columns()):
        curve = kpis.cumulative_recovery()
        axes.plot(
            range(1, len(curve) + 1),
            [value * 100 for value in curve],
            label=name,
            color=_COLOURS[index % len(_COLOURS)],
        )
    axes.set_xlabel("day")
    axes.set_ylabel("recovered (% of past due at entry)")
    axes.set_title("Cumulative recovery by day")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def _contacts(kpis: Kpis) -> Figure:
    figure = _figure(7.5, 3.6)
    axes = figure.subplots()
    bottom = [0] * 24
    for index, channel in enumerate(sorted(kpis.contacts_by_hour)):
        counts = kpis.contacts_by_hour[channel]
        axes.bar(
            range(24),
            counts,
            bottom=bottom,
            label=channel,
            color=_COLOURS[index % len(_COLOURS)],
        )
        bottom = [low + count for low, count in zip(bottom, counts, strict=True)]
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlabel("hour of the day (debtor's local time)")
    axes.set_ylabel("contacts")
    axes.set_title("Contacts by channel and hour")
    if kpis.contacts_by_hour:
        axes.legend(loc="upper left")
    return figure


def _blocks(kpis: Kpis) -> Figure:
    rules = sorted(kpis.blocked_by.items(), key=lambda item: (item[1], item[0]))
    figure = _figure(7.5, max(2.0, 0.5 * len(rules) + 1.2))
    axes = figure.subplots()
    if not rules:
        axes.text(0.5, 0.5, "no contact was blocked", ha="center", va="center")
        axes.set_axis_off()
        return figure
    axes.barh([rule for rule, _ in rules], [count for _, count in rules], color=_COLOURS[3])
    axes.set_xlabel("denials citing the rule (a denial citing two rules counts for both)")
    axes.set_title("Contacts denied, by the rules cited")
    return figure


def _intervals(comparison: Comparison) -> Figure:
    """Each KPI's value per variant, with its 95% Wilson interval as an error bar."""
    names = list(comparison.values)
    figure = _figure(7.5, max(2.0, 0.9 * len(names) + 1.0))
    axes = figure.subplots()
    step = 0.8 / max(1, len(comparison.variants))
    for index, variant in enumerate(comparison.variants):
        rows, values, below, above = [], [], [], []
        for row, name in enumerate(names):
            found = comparison.values[name][variant]
            if found.value is None or found.low is None or found.high is None:
                continue
            rows.append(row - 0.4 + step * (index + 0.5))
            values.append(100 * found.value)
            below.append(100 * (found.value - found.low))
            above.append(100 * (found.high - found.value))
        label = f"{variant} (champion)" if variant == comparison.champion else variant
        axes.errorbar(
            values,
            rows,
            xerr=[below, above],
            fmt="o",
            capsize=4,
            label=label,
            color=_COLOURS[index % len(_COLOURS)],
        )
    axes.set_yticks(range(len(names)), names)
    axes.invert_yaxis()
    axes.set_xlabel("% (95% confidence interval)")
    axes.set_title("Champion and challenger")
    axes.grid(alpha=0.3, axis="x")
    axes.legend(loc="best")
    return figure


def _comparison(report: KpiReport) -> str:
    """The champion/challenger section: intervals, differences, sentences and chart."""
    if len(report.variants) < 2:
        return ""
    if not intervals_available():
        return f"<h2>Champion and challenger</h2><p>{html.escape(INTERVALS_NEED)}</p>"
    comparison = report.comparison()
    if comparison is None:  # pragma: no cover - two variants or more always compare
        return ""
    sentences = "".join(f"<li>{html.escape(line)}</li>" for line in comparison.sentences())
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in comparison.notes())
    chart = _svg(_intervals(comparison)) if comparison.values else ""
    return (
        f"<h2>Champion and challenger</h2>"
        f"{_grid('KPI', comparison.heads(), comparison.rows())}"
        f'<ul>{sentences}</ul><ul class="notes">{notes}</ul>'
        f'<section class="chart">{chart}</section>'
    )


def charts(report: KpiReport) -> dict[str, str]:
    """The four charts as inline SVG, by title."""
    overall = report.overall
    return {
        "Roll-rate flow": _svg(_roll_flow(overall)),
        "Cumulative recovery by day": _svg(_recovery(report)),
        "Contacts by channel and hour": _svg(_contacts(overall)),
        "Blocks by rule": _svg(_blocks(overall)),
    }


def _grid(corner: str, heads: Sequence[str], rows: Sequence[tuple[str, Sequence[str]]]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in heads)
    lines = []
    for label, values in rows:
        cells = "".join(f'<td class="value">{html.escape(value)}</td>' for value in values)
        indent = ' class="sub"' if label.startswith("  ") else ""
        lines.append(f"<tr><td{indent}>{html.escape(label.strip())}</td>{cells}</tr>")
    return f"<table><tr><th>{html.escape(corner)}</th>{head}</tr>{''.join(lines)}</table>"


def _table(report: KpiReport) -> str:
    return _grid("KPI", [name for name, _ in report.columns()], report.rows())


def _rolls(report: KpiReport) -> str:
    kpis = report.overall
    heads = [period.label for period in report.periods]
    heads.append(f"pooled ({kpis.complete_periods} complete)")
    counts = [kpis.roll_counts(period.index) for period in report.periods]
    counts.append(kpis.roll_counts())
    names = sorted({name for found in counts for name in found}, key=_bucket_order)
    if not names:
        return "<p>No case was past due or current at a period's start.</p>"
    rows = [
        (
            name + ("" if name.endswith("+") else "+"),
            ["-" if found.get(name) is None else _share(*found[name]) for found in counts],
        )
        for name in names
    ]
    return _grid("roll rate, all cases", heads, rows)


def _bucket_order(name: str) -> int:
    return BUCKETS.index(name.split("→")[0])


def _share(rolled: int, starting: int) -> str:
    return f"{rolled / starting:.1%} of {starting:,}"


def render_html(
    report: KpiReport, *, title: str = "Collection report", notes: Sequence[str] = ()
) -> str:
    """The report as one HTML page: KPI table and charts, nothing fetched from elsewhere."""
    period = f"{report.window()}; {report.overall.cases:,} cases"
    meta = "".join(f'<p class="meta">{html.escape(note)}</p>' for note in notes)
    explained = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes())
    sections = "".join(
        f'<section class="chart"><h2>{html.escape(name)}</h2>{svg}</section>'
        for name, svg in charts(report).items()
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><h1>{html.escape(title)}</h1><p class="meta">{html.escape(period)}</p>{meta}'
        f'<h2>KPIs</h2>{_table(report)}<ul class="notes">{explained}</ul>'
        f"<h2>Roll rates by period</h2><p>Of the cases in Mk at a period's start, the share "
        f"in M(k+1) or worse at its end, and how many were in Mk at the start. A partial "
        f"period is shown here only; the pooled figures count the complete ones.</p>"
        f"{_rolls(report)}{sections}{_comparison(report)}</body></html>\n"
    )


def write_html(
    report: KpiReport,
    path: str | os.PathLike[str],
    *,
    title: str = "Collection report",
    notes: Sequence[str] = (),
) -> Path:
    """Write `render_html` to *path* (UTF-8); returns the path."""
    target = Path(path)
    target.write_text(render_html(report, title=title, notes=notes), encoding="utf-8")
    return target
