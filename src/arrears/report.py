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

The page is written in English or in Chinese (``locale="zh-CN"``), from the
same message table as the text report (`arrears.report_text`).  The charts'
text is kept as SVG text, not drawn as outlines, so the reader's browser sets
it in the page's fonts: the font stack names the common CJK fonts of each
system, and a Chinese page never shows empty boxes for want of a font on the
machine that wrote it.  matplotlib lays the charts out with DejaVu Sans for
Latin text and a CJK font for Han characters (`_CHART_FONTS`), so each label
has at least the room a browser draws it in; the tables wrap a long name
rather than run past the page.  Each row of the KPI table carries the key of
its figures in `arrears.kpi.KpiReport.to_json` (``data-kpi``).
"""

from __future__ import annotations

import html
import io
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .comparison import Comparison, intervals_available
from .kpi import BUCKETS, KpiReport, Kpis
from .report_text import ReportLocale, report_locale

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FONTS", "charts", "render_html", "write_html"]

#: The page's fonts: each system's own, then the CJK fonts of macOS, Windows and Linux, so
#: Chinese text is set in a font that has it wherever the page is opened.
FONTS: Final = (
    'system-ui, -apple-system, "Segoe UI", "Noto Sans", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", '
    "sans-serif"
)

_STYLE: Final = """
body { font-family: FONTS;
       margin: 2rem auto; max-width: 1100px; color: #1d2330; padding: 0 1rem;
       overflow-wrap: anywhere; }
svg text { font-family: FONTS !important; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
p.meta { color: #5b6475; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0 2rem; max-width: 100%; }
th, td { padding: 0.3rem 0.8rem; border-bottom: 1px solid #dde1e8; }
th { text-align: left; background: #f3f5f8; }
td.value { text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal; }
td.sub { padding-left: 1.8rem; color: #3b4453; }
ul.notes { color: #3b4453; font-size: 0.92rem; }
section.chart { margin: 1.5rem 0 2.5rem; }
section.chart svg { max-width: 100%; height: auto; }
""".replace("FONTS", FONTS)

_COLOURS: Final = ("#2f6db5", "#d9822b", "#3c9a5f", "#b5443b", "#7b5ea7", "#8c6d46")

#: The fonts matplotlib lays the charts' text out with (the browser sets it in `FONTS`):
#: DejaVu Sans, matplotlib's own, for Latin letters and digits (as wide as any of `FONTS`,
#: and Chromium's ``system-ui`` on Linux), then the first CJK font the machine has for Han
#: characters, each 1 em wide in every CJK font.  So a label is given at least the room the
#: reader's browser draws it in.
_CHART_FONTS: Final = (
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
)


def _figure(width: float, height: float) -> Figure:
    """A new figure of *width* by *height* inches (matplotlib is imported by the first chart)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _svg(draw: Callable[[], Figure]) -> str:
    """The figure *draw* makes, as inline SVG whose text is text (set by the browser in the
    page's fonts).  The figure is made in `_CHART_FONTS`: a text's font is fixed when it
    is made, and matplotlib lays the figure out with it."""
    from matplotlib import font_manager, rc_context

    available = {font.name for font in font_manager.fontManager.ttflist}
    families = [name for name in _CHART_FONTS if name in available] or ["DejaVu Sans"]
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "font.family": families}), warnings.catch_warnings():
        # Without a CJK font here, matplotlib measures a Chinese label with its own font
        # and says a glyph is missing; the browser draws the text, in a font that has it.
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from font", UserWarning)
        figure = draw()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[max(0, text.find("<svg")) :]  # the XML prologue and DOCTYPE are not for inline SVG
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if 0 <= start < end:  # the creator's RDF block: nothing a reader needs
        text = text[:start] + text[end + len("</metadata>") :]
    return text


def _roll_flow(kpis: Kpis, words: ReportLocale) -> Figure:
    text = words.text
    flows = kpis.flows
    present = [bucket for bucket in BUCKETS if any(bucket in flow for flow in flows)]
    sources = [bucket for bucket in present if bucket != "paid"]
    figure = _figure(7.5, 4.2)
    axes = figure.subplots()
    if not sources:
        empty = text.flow_none if kpis.complete_periods else text.flow_no_period
        axes.text(0.5, 0.5, empty, ha="center", va="center")
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
                axes.text(column, row, words.pct(share, 0), ha="center", va="center", color=colour)
    names = [words.text.flow_paid if bucket == "paid" else bucket for bucket in present]
    axes.set_xticks(range(len(present)), names)
    axes.set_yticks(range(len(sources)), sources)
    axes.set_xlabel(text.flow_x)
    axes.set_ylabel(text.flow_y)
    axes.set_title(text.flow_title.format(count=words.count(kpis.complete_periods)))
    figure.colorbar(image, ax=axes, fraction=0.04)
    return figure


def _recovery(report: KpiReport, words: ReportLocale) -> Figure:
    figure = _figure(7.5, 3.6)
    axes = figure.subplots()
    for index, (name, kpis) in enumerate(report.columns(words.tag)):
        curve = kpis.cumulative_recovery()
        axes.plot(
            range(1, len(curve) + 1),
            [value * 100 for value in curve],
            label=name,
            color=_COLOURS[index % len(_COLOURS)],
        )
    axes.set_xlabel(words.text.recovery_x)
    axes.set_ylabel(words.text.recovery_y)
    axes.set_title(words.text.chart_recovery)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def _contacts(kpis: Kpis, words: ReportLocale) -> Figure:
    figure = _figure(7.5, 3.6)
    axes = figure.subplots()
    bottom = [0] * 24
    for index, channel in enumerate(sorted(kpis.contacts_by_hour)):
        counts = kpis.contacts_by_hour[channel]
        axes.bar(
            range(24),
            counts,
            bottom=bottom,
            label=words.channel(channel),
            color=_COLOURS[index % len(_COLOURS)],
        )
        bottom = [low + count for low, count in zip(bottom, counts, strict=True)]
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlabel(words.text.contacts_x)
    axes.set_ylabel(words.text.contacts_y)
    axes.set_title(words.text.chart_contacts)
    if kpis.contacts_by_hour:
        axes.legend(loc="upper left")
    return figure


def _blocks(kpis: Kpis, words: ReportLocale) -> Figure:
    rules = sorted(kpis.blocked_by.items(), key=lambda item: (item[1], item[0]))
    figure = _figure(7.5, max(2.0, 0.5 * len(rules) + 1.2))
    axes = figure.subplots()
    if not rules:
        axes.text(0.5, 0.5, words.text.blocks_none, ha="center", va="center")
        axes.set_axis_off()
        return figure
    axes.barh([rule for rule, _ in rules], [count for _, count in rules], color=_COLOURS[3])
    axes.set_xlabel(words.text.blocks_x)
    axes.set_title(words.text.chart_blocks)
    return figure


def _intervals(comparison: Comparison, words: ReportLocale) -> Figure:
    """Each KPI's value per variant, with its 95% interval as an error bar."""
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
            # an interval's end can sit a rounding error inside its value (a rate of 100%)
            below.append(max(0.0, 100 * (found.value - found.low)))
            above.append(max(0.0, 100 * (found.high - found.value)))
        head = words.text.champion_head.format(variant=variant)
        axes.errorbar(
            values,
            rows,
            xerr=[below, above],
            fmt="o",
            capsize=4,
            label=head if variant == comparison.champion else variant,
            color=_COLOURS[index % len(_COLOURS)],
        )
    axes.set_yticks(range(len(names)), [words.kpi(name) for name in names])
    axes.invert_yaxis()
    axes.set_xlabel(words.text.intervals_x)
    axes.set_title(words.text.comparison_heading)
    axes.grid(alpha=0.3, axis="x")
    axes.legend(loc="best")
    return figure


def _comparison(report: KpiReport, words: ReportLocale) -> str:
    """The champion/challenger section: intervals, differences, sentences and chart."""
    if len(report.variants) < 2:
        return ""
    heading = f"<h2>{html.escape(words.text.comparison_heading)}</h2>"
    if not intervals_available():
        return f"{heading}<p>{html.escape(words.text.intervals_need)}</p>"
    comparison = report.comparison()
    if comparison is None:  # pragma: no cover - two variants or more always compare
        return ""
    locale = words.tag
    sentences = "".join(f"<li>{html.escape(line)}</li>" for line in comparison.sentences(locale))
    notes = "".join(f"<li>{html.escape(line)}</li>" for line in comparison.notes(locale))
    chart = _svg(lambda: _intervals(comparison, words)) if comparison.values else ""
    return (
        f"{heading}"
        f"{_grid(words.text.corner, comparison.heads(locale), comparison.rows(locale))}"
        f'<ul>{sentences}</ul><ul class="notes">{notes}</ul>'
        f'<section class="chart">{chart}</section>'
    )


def charts(report: KpiReport, locale: str = "en") -> dict[str, str]:
    """The four charts as inline SVG, by title (in *locale*'s words)."""
    words = report_locale(locale)
    overall = report.overall
    return {
        words.text.chart_flow: _svg(lambda: _roll_flow(overall, words)),
        words.text.chart_recovery: _svg(lambda: _recovery(report, words)),
        words.text.chart_contacts: _svg(lambda: _contacts(overall, words)),
        words.text.chart_blocks: _svg(lambda: _blocks(overall, words)),
    }


def _grid(
    corner: str,
    heads: Sequence[str],
    rows: Sequence[tuple[str, Sequence[str]]],
    keys: Sequence[str] = (),
) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in heads)
    lines = []
    for index, (label, values) in enumerate(rows):
        cells = "".join(f'<td class="value">{html.escape(value)}</td>' for value in values)
        indent = ' class="sub"' if label.startswith("  ") else ""
        key = keys[index] if index < len(keys) else ""
        row = f'<tr data-kpi="{html.escape(key)}">' if key else "<tr>"
        lines.append(f"{row}<td{indent}>{html.escape(label.strip())}</td>{cells}</tr>")
    return f"<table><tr><th>{html.escape(corner)}</th>{head}</tr>{''.join(lines)}</table>"


def _table(report: KpiReport, words: ReportLocale) -> str:
    heads = [name for name, _ in report.columns(words.tag)]
    return _grid(words.text.corner, heads, report.rows(words.tag), report.keys())


def _rolls(report: KpiReport, words: ReportLocale) -> str:
    kpis = report.overall
    heads = [period.describe(words.tag) for period in report.periods]
    heads.append(words.text.pooled_complete.format(count=words.count(kpis.complete_periods)))
    counts = [kpis.roll_counts(period.index) for period in report.periods]
    counts.append(kpis.roll_counts())
    names = sorted({name for found in counts for name in found}, key=_bucket_order)
    if not names:
        return f"<p>{html.escape(words.text.no_rolls_html)}</p>"
    rows = [
        (
            name + ("" if name.endswith("+") else "+"),
            ["-" if found.get(name) is None else _share(words, *found[name]) for found in counts],
        )
        for name in names
    ]
    return _grid(words.text.roll_corner, heads, rows)


def _bucket_order(name: str) -> int:
    return BUCKETS.index(name.split("→")[0])


def _share(words: ReportLocale, rolled: int, starting: int) -> str:
    return words.text.share.format(share=words.pct(rolled / starting), count=words.count(starting))


def render_html(
    report: KpiReport,
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    locale: str = "en",
) -> str:
    """The report as one HTML page: KPI table and charts, nothing fetched from elsewhere.

    Args:
        report: The KPIs.
        title: The page's title (default: "Collection report" in *locale*'s words).
        notes: Lines shown under the title.
        locale: The page's language: ``"en"`` or ``"zh-CN"`` (`arrears.report_text`).

    Raises:
        InvalidInput: a language the report is not written in.
    """
    words = report_locale(locale)
    text = words.text
    heading = text.title if title is None else title
    period = text.meta.format(
        window=report.window(words.tag), cases=words.count(report.overall.cases)
    )
    meta = "".join(f'<p class="meta">{html.escape(note)}</p>' for note in notes)
    explained = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes(words.tag))
    sections = "".join(
        f'<section class="chart"><h2>{html.escape(name)}</h2>{svg}</section>'
        for name, svg in charts(report, words.tag).items()
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{text.html_lang}"><head><meta charset="utf-8">'
        f"<title>{html.escape(heading)}</title><style>{_STYLE}</style></head>"
        f'<body><h1>{html.escape(heading)}</h1><p class="meta">{html.escape(period)}</p>{meta}'
        f"<h2>{html.escape(text.kpis_heading)}</h2>{_table(report, words)}"
        f'<ul class="notes">{explained}</ul>'
        f"<h2>{html.escape(text.rolls_heading)}</h2><p>{html.escape(text.rolls_explained)}</p>"
        f"{_rolls(report, words)}{sections}{_comparison(report, words)}</body></html>\n"
    )


def write_html(
    report: KpiReport,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    notes: Sequence[str] = (),
    locale: str = "en",
) -> Path:
    """Write `render_html` to *path* (UTF-8); returns the path."""
    target = Path(path)
    page = render_html(report, title=title, notes=notes, locale=locale)
    target.write_text(page, encoding="utf-8")
    return target
