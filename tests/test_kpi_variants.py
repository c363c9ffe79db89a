"""Champion and challenger with confidence: intervals, differences and p-values per variant."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from statsmodels.stats import proportion as sm

from arrears import ArrearsError, Engine, InvalidInput, Money, SettableClock, comparison, kpi
from arrears.comparison import (
    ALPHA,
    INTERVALS_NEED,
    Difference,
    champion_of,
    compare_variants,
)
from arrears.kpi import KpiReport, kpis_from_journal
from arrears.report import render_html
from arrears.stores import open_store

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=30)


def build(engine: Engine, cases: Sequence[tuple[str, bool]]) -> None:
    """Open one M1 case per ``(variant, cured)``; a cured one pays in full on day 2."""
    for number, (variant, cured) in enumerate(cases):
        case_id = f"C-{number:05d}"
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "1000.00"},
                "due_date": "2026-08-20",
                "variant": variant,
            },
            at=START,
        )
        if cured:
            engine.record_payment(case_id, Money("1000.00", "CNY"), at=START + timedelta(days=2))


def experiment(seed: int, champion: float, challenger: float, cases: int = 2000) -> KpiReport:
    """*cases* cases split at random between variants A and B, each cured with its chance."""
    draw = random.Random(seed)
    engine = Engine(clock=SettableClock(START))
    plan = []
    for _ in range(cases):
        variant = draw.choice("AB")
        chance = champion if variant == "A" else challenger
        plan.append((variant, draw.random() < chance))
    build(engine, plan)
    return kpis_from_journal(engine.store.chains(), start=START, end=END)


def table_of(counts: dict[str, tuple[int, int]]) -> KpiReport:
    """A report whose variants cured exactly ``(cured, cases)`` each."""
    engine = Engine(clock=SettableClock(START))
    plan = [
        (variant, number < cured)
        for variant, (cured, total) in counts.items()
        for number in range(total)
    ]
    build(engine, plan)
    return kpis_from_journal(engine.store.chains(), start=START, end=END)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_ten_point_better_challenger_is_reported_significant(seed: int) -> None:
    report = experiment(seed, champion=0.40, challenger=0.50)
    found = compare_variants(report)
    assert found is not None
    assert found.champion == "A"
    (cure,) = [d for d in found.differences if d.kpi == "cure rate"]
    assert cure.significant
    assert cure.p_value is not None
    assert cure.p_value < ALPHA
    assert cure.low is not None
    assert cure.low > 0  # the whole interval is above no difference
    assert cure.of_champion.trials + cure.of_challenger.trials == 2000
    assert cure.sentence().startswith("challenger B's cure rate is ")
    assert " points higher than champion A's (95% CI " in cure.sentence()
    assert "B's cure rate is" in report.table()


def test_no_difference_is_not_significant_in_most_seeds() -> None:
    verdicts = []
    for seed in range(1, 6):
        found = compare_variants(experiment(seed, champion=0.45, challenger=0.45))
        assert found is not None
        (cure,) = [d for d in found.differences if d.kpi == "cure rate"]
        verdicts.append(cure.significant)
        if not cure.significant:
            assert "no clear difference from champion A's" in cure.sentence()
            assert cure.low is not None
            assert cure.high is not None
            assert cure.low < 0 < cure.high
    assert verdicts.count(False) >= 4, verdicts


def test_the_figures_are_statsmodels_own_on_a_hand_made_table() -> None:
    # champion A: 120 cured of 400; challenger B: 150 cured of 380
    report = table_of({"A": (120, 400), "B": (150, 380)})
    assert report.variants["A"].cured == 120
    assert report.variants["B"].past_due_cases == 380
    found = compare_variants(report)
    assert found is not None
    cure, recovery = found.differences
    assert isinstance(cure, Difference)
    assert recovery.kpi == "recovery rate"
    low, high = sm.proportion_confint(150, 380, alpha=0.05, method="wilson")
    assert (cure.of_challenger.low, cure.of_challenger.high) == pytest.approx((low, high))
    low, high = sm.proportion_confint(120, 400, alpha=0.05, method="wilson")
    assert (cure.of_champion.low, cure.of_champion.high) == pytest.approx((low, high))
    low, high = sm.confint_proportions_2indep(150, 380, 120, 400, method="newcomb", compare="diff")
    assert (cure.low, cure.high) == pytest.approx((low, high))
    test = sm.test_proportions_2indep(150, 380, 120, 400, method="score", compare="diff")
    assert cure.p_value == pytest.approx(test.pvalue)
    assert cure.difference == pytest.approx(150 / 380 - 120 / 400)
    # the published Wilson interval of 120/400 (30.0%): 25.7% to 34.7%
    assert cure.of_champion.cell() == "30.0% (25.7%–34.7%) of 400"
    assert cure.p_value < ALPHA
    assert cure.sentence() == (
        "challenger B's cure rate is 9.5 points higher than champion A's "
        f"(95% CI {100 * cure.low:+.1f} to {100 * cure.high:+.1f} points; "
        f"p = {cure.p_value:.3g}; 380 cases in B, 400 in A)."
    )
    # KPIs nobody counted (no calls, no promises, no contacts) are left out
    assert list(found.values) == ["cure rate", "recovery rate"]
    text = report.table()
    assert "champion/challenger, 95% confidence intervals (champion: A)" in text
    assert "30.0% (25.7%–34.7%) of 400" in text
    assert cure.sentence() in text
    data = report.to_json()["comparison"]
    assert data["champion"] == "A"
    assert data["differences"][0]["p_value"] == pytest.approx(test.pvalue)
    assert data["differences"][0]["significant"] is True


def test_identical_rates_have_nothing_to_test() -> None:
    found = compare_variants(table_of({"A": (0, 50), "B": (0, 60)}))
    assert found is not None
    cure, recovery = found.differences
    assert cure.p_value is None
    assert not cure.significant
    assert cure.sentence() == (
        "challenger B's cure rate: no difference from champion A's, both 0.0% "
        "(60 cases in B, 50 in A)."
    )
    assert recovery.sentence() == (
        "challenger B's recovery rate: no difference from champion A's, both 0.0% "
        "(60 cases in B, 50 in A)."
    )


def test_the_champion_is_named_or_found() -> None:
    assert champion_of(["B", "A"]) == "A"
    assert champion_of(["challenger", "champion"]) == "champion"
    assert champion_of(["A", "B"], "B") == "B"
    with pytest.raises(InvalidInput, match="champion"):
        champion_of(["A", "B"], "C")
    report = table_of({"A": (10, 40), "B": (20, 40), "C": (10, 40)})
    found = compare_variants(report, champion="B")
    assert found is not None
    assert found.variants == ("B", "A", "C")
    assert [(d.kpi, d.challenger) for d in found.differences] == [
        ("cure rate", "A"),
        ("cure rate", "C"),
        ("recovery rate", "A"),
        ("recovery rate", "C"),
    ]
    assert (
        found.differences[0].sentence().startswith("challenger A's cure rate is 25.0 points lower")
    )
    engine = Engine(clock=SettableClock(START))
    build(engine, [("A", True), ("B", False)])
    with pytest.raises(InvalidInput, match="champion"):
        kpis_from_journal(engine.store.chains(), start=START, end=END, champion="Z")
    named = kpis_from_journal(engine.store.chains(), start=START, end=END, champion="B")
    assert "(champion: B)" in named.table()


def test_one_variant_has_nothing_to_compare() -> None:
    report = table_of({"A": (3, 10)})
    assert compare_variants(report) is None
    assert "champion/challenger" not in report.table()
    assert "comparison" not in report.to_json()


def test_without_statsmodels_the_report_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = table_of({"A": (3, 10), "B": (5, 10)})
    for module in (comparison, kpi, sys.modules["arrears.report"]):
        monkeypatch.setattr(module, "intervals_available", lambda: False)
    assert INTERVALS_NEED in report.table()
    assert "pip install 'arrears[report]'" in INTERVALS_NEED
    assert report.to_json()["comparison"] == {"unavailable": INTERVALS_NEED}
    assert "pip install &#x27;arrears[report]&#x27;" in render_html(report)
    with pytest.raises(ArrearsError, match="statsmodels"):
        compare_variants(report)


def test_the_html_report_draws_the_intervals() -> None:
    page = render_html(table_of({"A": (120, 400), "B": (150, 380)}))
    assert "<h2>Champion and challenger</h2>" in page
    assert "challenger B&#x27;s cure rate is 9.5 points higher" in page
    assert page.count("<svg") == 5  # the four charts and the intervals


def test_report_command_compares_with_the_champion_given(tmp_path: Path) -> None:
    path = tmp_path / "cc.db"
    with open_store(path) as store:
        engine = Engine(clock=SettableClock(START), store=store)
        build(engine, [("A", n < 30) for n in range(100)] + [("B", n < 45) for n in range(100)])
    # In English: the debtors, in Shanghai with no locale given, would have it in Chinese.
    command = [sys.executable, "-m", "arrears", "report", "--db", str(path), "--locale", "en"]
    done = subprocess.run(
        [*command, "--champion", "B"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "challenger A's cure rate is 15.0 points lower than champion B's" in done.stdout
    done = subprocess.run(
        [*command, "--champion", "Z"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "--champion" in done.stderr
