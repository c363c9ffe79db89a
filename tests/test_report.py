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
    assert "no cases overdue" in page
    assert "no contact was blocked" in page
