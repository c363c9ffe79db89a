"""`arrears.report`: one self-contained HTML page, the KPIs and four charts, offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arrears.kpi import KpiReport, kpis_from_journal
from arrears.policy import load_policy
from arrears.report import charts, render_html, write_html
from arrears.simulate import Simulation, synthetic_portfolio

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def report() -> KpiReport:
    policy = load_policy(ROOT / "examples" / "policies" / "cn_consumer_loan.yaml")
    result = Simulation(policy, seed=1).run(synthetic_portfolio(80, seed=1), days=12)
    return result.kpis()


def test_the_page_fetches_nothing(report: KpiReport, tmp_path: Path) -> None:
    page = write_html(report, tmp_path / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page, re.IGNORECASE)
    assert not re.search(r"<link\b", page, re.IGNORECASE)
    assert not re.search(r"@import|url\(\s*['\"]?https?:", page, re.IGNORECASE)
    assert not re.search(r"\b(?:src|href)\s*=\s*['\"]?https?:", page, re.IGNORECASE)
    assert "<script" not in page.lower()


def test_the_page_has_the_kpis_and_four_charts(report: KpiReport) -> None:
    page = render_html(report, title="Test <report>", notes=["seed 1"])
    assert page.startswith("<!DOCTYPE html>")
    assert "<title>Test &lt;report&gt;</title>" in page
    assert page.count("<svg") == 4
    for title in ("Roll-rate flow", "Cumulative recovery by day", "Contacts by channel and hour"):
        assert f"<h2>{title}</h2>" in page
    assert "<td>cure rate</td>" in page
    assert "seed 1" in page


def test_charts_are_inline_svg_without_metadata(report: KpiReport) -> None:
    drawn = charts(report)
    assert list(drawn) == [
        "Roll-rate flow",
        "Cumulative recovery by day",
        "Contacts by channel and hour",
        "Blocks by rule",
    ]
    for svg in drawn.values():
        assert svg.startswith("<svg")
        assert "<metadata>" not in svg


def test_an_empty_journal_still_gives_a_page() -> None:
    page = render_html(kpis_from_journal([]))
    assert "no complete 30-day period in the window" in page
    assert "no contact was blocked" in page


def test_the_page_says_what_each_figure_counts(report: KpiReport) -> None:
    """The window, a partial period marked as such, and the population of each figure."""
    page = render_html(report)
    assert "window 2026-09-01 09:30+08:00 to 2026-09-13 09:30+08:00 (12 days)" in page
    assert "1: 09-01→09-13 (partial, 12 days)" in page
    assert "<td>cases past due at entry</td>" in page
    assert "a denial citing several rules counts under each rule" in page
    assert "the agents&#x27; calls and visits and the automated messages alike" in page


def _table(output: str) -> str:
    """The KPI table of a command's output: from its window line to the roll rates' end."""
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(("window ", "统计窗口 ")))
    last = max(i for i, line in enumerate(lines) if line.startswith("M"))
    return "\n".join(lines[first : last + 1])


def test_the_demo_prints_what_report_prints_from_its_database(tmp_path: Path) -> None:
    """One figure everywhere: the demo's table is `arrears report --db` on the demo's file,
    in the same language (the CN policy's, which its debtors read: Chinese)."""
    from click.testing import CliRunner

    from arrears.cli import main

    db, page = tmp_path / "demo.db", tmp_path / "demo.html"
    runner = CliRunner()
    demo = runner.invoke(
        main, ["demo", "--cases", "80", "--days", "40", "--db", str(db), "--html", str(page)]
    )
    assert demo.exit_code == 0, demo.output
    assert f"the same figures: arrears report --db {db}" in demo.output
    again = runner.invoke(main, ["report", "--db", str(db)])
    assert again.exit_code == 0, again.output
    table = _table(demo.output)
    assert table == _table(again.output)
    assert "（40 天）：1 个完整的 30 天周期，另有 1 个不完整周期（10 天）" in table
    assert "2：10月1日→10月11日（不完整，10 天）" in table
    html = runner.invoke(main, ["report", "--db", str(db), "--html", str(tmp_path / "r.html")])
    assert html.exit_code == 0
    ours = (tmp_path / "r.html").read_text(encoding="utf-8")
    theirs = page.read_text(encoding="utf-8")
    tables = [text[text.index("<h2>指标</h2>") : text.index("<section")] for text in (ours, theirs)]
    assert tables[0] == tables[1]
    assert "<td>期初逾期案件数</td>" in tables[0]
    window = runner.invoke(
        main,
        [
            "report",
            "--db",
            str(db),
            "--from",
            "2026-09-01T09:30:00+08:00",
            "--to",
            "2026-10-01T09:30:00+08:00",
            "--lang",
            "en",
        ],
    )
    assert window.exit_code == 0, window.output
    assert "(30 days): 1 complete 30-day period(s)\n" in window.output
    backwards = runner.invoke(
        main,
        [
            "report",
            "--db",
            str(db),
            "--from",
            "2026-10-01T09:30:00+08:00",
            "--to",
            "2026-09-01T09:30:00+08:00",
        ],
    )
    assert backwards.exit_code == 2
    assert "--to" in backwards.output
