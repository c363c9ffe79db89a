"""`arrears.kpi`: collection KPIs read from the journal alone, overall and per variant."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, Money, SettableClock
from arrears.compliance import Compliance
from arrears.journal import read_jsonl
from arrears.kpi import DEFAULT_COSTS, KpiReport, kpis_from_journal

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=30)


def case(case_id: str, due: str, principal: str, variant: str) -> dict[str, object]:
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": principal},
        "due_date": due,
        "variant": variant,
    }


@pytest.fixture(scope="module")
def engine() -> Engine:
    """Two cases: one in M1 promises, pays and is cured; one in M2 pays a third and rolls."""
    engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(START))
    engine.open_case(case("A", "2026-08-20", "1000.00", "champion"), at=START)
    engine.open_case(case("B", "2026-08-01", "3000.00", "challenger"), at=START)
    day = START + timedelta(hours=1)
    engine.record_interaction("A", "call", "no_answer", contact="mobile", at=day)
    engine.record_interaction(
        "A", "call", "conversation", contact="mobile", at=day + timedelta(hours=2)
    )
    engine.record_promise(
        "A", Money("1000.00", "CNY"), START.date() + timedelta(days=4), at=day + timedelta(hours=2)
    )
    engine.record_payment("A", Money("1000.00", "CNY"), at=START + timedelta(days=2))
    engine.record_interaction("B", "sms", "delivered", contact="mobile", automated=True, at=day)
    engine.record_interaction(
        "B", "call", "wrong_party", contact="mobile", at=day + timedelta(hours=1)
    )
    late = START.replace(hour=23)
    verdict = engine.judge_contact("B", {"channel": "call", "contact": "mobile"}, at=late)
    assert not verdict.allowed
    engine.record_payment("B", Money("1000.00", "CNY"), at=START + timedelta(days=3))
    return engine


@pytest.fixture(scope="module")
def report(engine: Engine) -> KpiReport:
    return kpis_from_journal(engine.store.chains(), start=START, end=END)


def test_the_kpis_of_all_cases(report: KpiReport) -> None:
    kpis = report.overall
    assert (kpis.cases, kpis.cured, kpis.cure_rate) == (2, 1, 0.5)
    assert kpis.overdue == Decimal("4000.00")
    assert kpis.collected == Decimal("2000.00")
    assert kpis.recovery_rate == 0.5
    assert kpis.contacts == 4
    assert kpis.contacts_per_case == 2.0
    assert kpis.right_party_contact_rate == pytest.approx(1 / 3)
    assert (kpis.promises, kpis.promises_kept, kpis.promise_kept_rate) == (1, 1, 1.0)
    assert kpis.cost == 3 * DEFAULT_COSTS["call"] + DEFAULT_COSTS["sms"]
    assert kpis.cost_per_collected == pytest.approx(4.55 / 2000)
    assert kpis.denied == 1
    assert dict(kpis.blocked_by) == {"CN-HOURS": 1}
    assert kpis.contacts_by_channel == {"call": 3, "sms": 1}
    assert kpis.contacts_by_hour["call"][10] == 1  # local hours, in Shanghai


def test_roll_rates_follow_each_case_from_bucket_to_bucket(report: KpiReport) -> None:
    kpis = report.overall
    assert kpis.flows == {("M1", "paid"): 1, ("M2", "M3"): 1}
    assert kpis.roll_rates() == {"M1→M2": 0.0, "M2→M3": 1.0}


def test_recovery_by_day_adds_up(report: KpiReport) -> None:
    curve = report.overall.cumulative_recovery()
    assert len(curve) == report.days == 30
    assert curve[0] == 0.0
    assert curve[2] == 0.25
    assert curve[-1] == 0.5


def test_champion_and_challenger_side_by_side(report: KpiReport) -> None:
    assert [name for name, _ in report.columns()] == ["all", "challenger", "champion"]
    assert report.variants["champion"].cure_rate == 1.0
    assert report.variants["challenger"].cure_rate == 0.0
    assert report.variants["challenger"].blocked_by == {"CN-HOURS": 1}
    lines = report.table().splitlines()
    assert lines[0].split() == ["KPI", "all", "challenger", "champion"]
    assert "cure rate" in report.table()
    assert any(line.startswith("  blocked by CN-HOURS") for line in lines)


def test_costs_are_configurable(engine: Engine) -> None:
    costs = {**DEFAULT_COSTS, "call": Decimal("2")}
    report = kpis_from_journal(engine.store.chains(), costs=costs, start=START, end=END)
    assert report.overall.cost == Decimal("6.05")


def test_an_export_read_back_gives_the_same_kpis(engine: Engine, report: KpiReport) -> None:
    out = io.StringIO()
    engine.export_journal(out)
    chains, problems = read_jsonl(out.getvalue().splitlines())
    assert problems == []
    again = kpis_from_journal(chains.items(), start=START, end=END)
    assert again.to_json() == report.to_json()


def test_without_bounds_the_period_runs_from_the_first_opening_to_the_last_entry(
    engine: Engine,
) -> None:
    report = kpis_from_journal(engine.store.chains())
    assert report.start == START
    assert report.days == 3
    assert report.overall.collected == Decimal("2000.00")


def test_an_empty_journal() -> None:
    report = kpis_from_journal([])
    assert report.overall.cases == 0
    assert report.overall.cure_rate is None
    assert "cases" in report.table()
