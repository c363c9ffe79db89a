"""The recovery rate's bootstrap interval and the denial rate, in champion/challenger comparisons.

The interval is checked three ways: the resampling itself against the exact
distribution of a three-case sample (27 equally likely resamples); the
intervals of a two-variant journal against a bootstrap written here with the
standard library alone; and the figures are the same on every run and however
the journal lists its cases.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from arrears import Actor, Engine, Money, SettableClock
from arrears.comparison import (
    BOOTSTRAP_RESAMPLES,
    Ratio,
    RatioDifference,
    compare_variants,
    recovery_ratios,
)
from arrears.compliance import Compliance
from arrears.errors import InvalidInput
from arrears.kpi import KpiReport, kpis_from_journal
from arrears.report import render_html

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=30)
AGENT = Actor("agent-7", frozenset({"agent"}))


def experiment(order: Sequence[int] | None = None) -> KpiReport:
    """60 M1 cases of unequal sizes, half in A and half in B; B's debtors pay more often.

    *order* opens the cases in another order (the same journal, listed differently).
    """
    draw = random.Random(7)
    plans = []
    for number in range(60):
        variant = "AB"[number % 2]
        owed = Decimal(draw.choice([800, 1500, 3000, 12000]))
        share = draw.choice([0, 0, 0.25, 1]) if variant == "A" else draw.choice([0.5, 1, 1, 1])
        plans.append((f"C-{number:03d}", variant, owed, (owed * Decimal(share)).quantize(1)))
    engine = Engine(clock=SettableClock(START))
    for index in order or range(len(plans)):
        case_id, variant, owed, paid = plans[index]
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": str(owed)},
                "due_date": "2026-08-20",
                "variant": variant,
            },
            at=START,
        )
        if paid:
            engine.record_payment(case_id, Money(paid, "CNY"), at=START + timedelta(days=3))
    return kpis_from_journal(engine.store.chains(), start=START, end=END, champion="A")


def reference_ratios(
    cases: Sequence[tuple[Decimal, Decimal]], resamples: int, seed: int
) -> list[float]:
    """A percentile bootstrap over cases, written from docs/kpis.md with the standard library."""
    draw = random.Random(seed)
    out = []
    for _ in range(resamples):
        sample = [draw.choice(cases) for _ in cases]
        out.append(float(sum(c for _, c in sample)) / float(sum(p for p, _ in sample)))
    return out


def percentile(values: Sequence[float], share: float) -> float:
    """The *share* quantile, interpolated between order statistics (numpy's default)."""
    ordered = sorted(values)
    at = share * (len(ordered) - 1)
    low = int(at)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


def test_the_resampling_draws_every_resample_alike() -> None:
    """Three cases: 27 resamples, equally likely; each ratio comes up as often as it should."""
    cases = [(Decimal(100), Decimal(0)), (Decimal(300), Decimal(150)), (Decimal(600), Decimal(600))]
    exact: Counter[float] = Counter()
    for sample in itertools.product(cases, repeat=3):
        exact[round(float(sum(c for _, c in sample)) / float(sum(p for p, _ in sample)), 12)] += 1
    ratios = recovery_ratios(cases, resamples=27_000, seed=3)
    found = Counter(round(float(value), 12) for value in ratios)
    assert set(found) == set(exact)
    for value, ways in exact.items():
        assert found[value] / 27_000 == pytest.approx(ways / 27, abs=0.01), value


def test_the_intervals_agree_with_a_reference_bootstrap() -> None:
    report = experiment()
    found = compare_variants(report)
    assert found is not None
    values = found.values["recovery rate"]
    reference = {}
    for index, variant in enumerate("AB"):
        kpis = report.variants[variant]
        ratio = values[variant]
        assert isinstance(ratio, Ratio)
        assert ratio.cases == kpis.past_due_cases == 30
        assert ratio.value == kpis.recovery_rate
        reference[variant] = reference_ratios(kpis.recovery_cases, 8000, seed=index)
        assert ratio.low == pytest.approx(percentile(reference[variant], 0.025), abs=0.02)
        assert ratio.high == pytest.approx(percentile(reference[variant], 0.975), abs=0.02)
        assert ratio.low is not None
        assert ratio.high is not None
        assert ratio.low < kpis.recovery_rate < ratio.high
    differences = [b - a for a, b in zip(reference["A"], reference["B"], strict=True)]
    (recovery,) = [d for d in found.differences if d.kpi == "recovery rate"]
    assert isinstance(recovery, RatioDifference)
    assert recovery.low == pytest.approx(percentile(differences, 0.025), abs=0.025)
    assert recovery.high == pytest.approx(percentile(differences, 0.975), abs=0.025)
    assert recovery.difference == pytest.approx(
        report.variants["B"].recovery_rate - report.variants["A"].recovery_rate
    )
    # B recovers clearly more: the interval leaves out 0
    assert recovery.significant
    assert recovery.low is not None
    assert recovery.low > 0
    assert recovery.sentence().startswith("challenger B's recovery rate is ")
    assert "95% bootstrap CI" in recovery.sentence()


def test_the_same_journal_gives_the_same_interval_whatever_its_order() -> None:
    first = compare_variants(experiment())
    again = compare_variants(experiment())
    backwards = compare_variants(experiment(order=range(59, -1, -1)))
    assert first is not None
    assert again is not None
    assert backwards is not None
    assert first.to_json() == again.to_json() == backwards.to_json()
    shuffled = list(range(60))
    random.Random(1).shuffle(shuffled)
    other = compare_variants(experiment(order=shuffled))
    assert other is not None
    assert other.values["recovery rate"] == first.values["recovery rate"]


def test_the_interval_shows_in_the_table_the_json_and_the_page() -> None:
    report = experiment()
    found = compare_variants(report)
    assert found is not None
    recovery = found.values["recovery rate"]["B"]
    text = report.table()
    assert recovery.cell() in text
    assert f"({BOOTSTRAP_RESAMPLES:,} resamples, seed" in text
    data = report.to_json()["comparison"]
    assert data["values"]["recovery rate"]["B"]["low"] == recovery.low
    assert data["values"]["recovery rate"]["B"]["method"] == "bootstrap"
    assert data["bootstrap"]["resamples"] == BOOTSTRAP_RESAMPLES
    chinese = report.table("zh-CN")
    assert "回款率" in chinese
    assert "95% 自助法置信区间" in chinese
    page = render_html(report, locale="zh-CN")
    assert "挑战者 B 的回款率比冠军 A 高" in page


def test_the_bootstrap_refuses_what_it_cannot_draw_from() -> None:
    with pytest.raises(InvalidInput, match="cases"):
        recovery_ratios([])
    with pytest.raises(InvalidInput, match="resamples"):
        recovery_ratios([(Decimal(1), Decimal(0))], resamples=0)


def test_the_denial_rate_counts_denials_over_proposals() -> None:
    """A call at 23:00 in Shanghai is denied (CN-HOURS); the calls at 10:00 are made."""
    clock = SettableClock(START)
    engine = Engine(compliance=Compliance(["CN"]), clock=clock)
    for number, variant in enumerate("AABB"):
        engine.open_case(
            {
                "id": f"L-{number}",
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai"},
                "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
                "balance": {"currency": "CNY", "principal": "1000.00"},
                "due_date": "2026-08-20",
                "variant": variant,
            }
        )
    call = {"channel": "call", "contact": "mobile"}
    at_ten = datetime(2026, 9, 2, 10, tzinfo=SHANGHAI)
    at_night = datetime(2026, 9, 2, 23, tzinfo=SHANGHAI)
    for case_id in ("L-0", "L-1", "L-2"):
        clock.set(at_ten)
        assert engine.judge_contact(case_id, call, actor=AGENT).allowed
        engine.record_interaction(case_id, "call", "no_answer", contact="mobile", actor=AGENT)
    for case_id in ("L-2", "L-3", "L-3"):
        clock.set(at_night)
        assert not engine.judge_contact(case_id, call, actor=AGENT).allowed
    report = kpis_from_journal(engine.store.chains(), start=START, end=END)
    assert (report.overall.denied, report.overall.proposed) == (3, 6)
    assert report.overall.denial_rate == 0.5
    assert report.variants["A"].denial_rate == 0.0
    assert report.variants["B"].denial_rate == 0.75  # L-2: 1 made, 1 denied; L-3: 2 denied
    assert report.to_json()["overall"]["denial_rate"] == 0.5
    assert "denial rate                           50.0%      0.0%     75.0%" in report.table()
    found = compare_variants(report)
    assert found is not None
    denial = found.values["denial rate"]
    assert (denial["A"].trials, denial["B"].trials) == (2, 4)
    assert "合规拒绝率（占提议联系）" in report.table("zh-CN")
