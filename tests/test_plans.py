"""Repayment plans: schedules, documents, starting, late and broken instalments, completion."""

from __future__ import annotations

import calendar
import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from arrears import (
    Actor,
    Engine,
    Frequency,
    InvalidInput,
    Money,
    PlanStatus,
    PromiseStatus,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    Workflow,
    instalment_schedule,
    schedule_dates,
    standard_definition,
)

AGENT = Actor("agent-7", frozenset({"agent"}))
#: 10:00 on 20 January 2027 in Shanghai.
START = datetime(2027, 1, 20, 2, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def shanghai(day: date) -> datetime:
    """10:00 on *day* in Shanghai."""
    return datetime(day.year, day.month, day.day, 2, tzinfo=UTC)


def loan(**overrides: Any) -> dict[str, Any]:
    """A CNY 12,000.00 loan, overdue since 31 December 2026, in the phone stage."""
    data: dict[str, Any] = {
        "id": "LN-12000",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
        "balance": {"currency": "CNY", "principal": "12000.00"},
        "due_date": "2026-12-31",
        "stage": "phone",
    }
    data.update(overrides)
    return data


def extension(count: int = 6, **extra: Any) -> RepaymentPlan:
    """CNY 12,000.00 over *count* months from 31 January 2027."""
    parts = instalment_schedule(cny("12000.00"), date(2027, 1, 31), count=count)
    return RepaymentPlan(id="PLAN-1", kind="extension", instalments=parts, **extra)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def engine(clock: SettableClock) -> Engine:
    return Engine(clock=clock)


@pytest.fixture
def case_id(engine: Engine) -> str:
    return engine.open_case(loan()).id


def same(engine: Engine, case_id: str) -> None:
    assert engine.replay(case_id) == engine.case(case_id)


def month_index(day: date) -> int:
    return day.year * 12 + day.month


class TestSchedules:
    def test_the_31st_falls_on_the_last_day_of_february(self) -> None:
        """A plan starting 2027-01-31 is due 2027-02-28, then back on the 31st in March."""
        dates = schedule_dates(date(2027, 1, 31), 4)
        assert dates == (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30))
        assert schedule_dates(date(2027, 12, 31), 3)[2] == date(2028, 2, 29)

    @given(
        first=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
        count=st.integers(1, 120),
    )
    def test_monthly_never_skips_or_doubles_a_month(self, first: date, count: int) -> None:
        """Consecutive instalments fall in consecutive months, on the day or the month's end."""
        dates = schedule_dates(first, count, Frequency.MONTHLY)
        assert len(dates) == count
        for n, due in enumerate(dates):
            assert month_index(due) == month_index(first) + n
            assert due.day == min(first.day, calendar.monthrange(due.year, due.month)[1])

    @given(
        first=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
        count=st.integers(1, 60),
        frequency=st.sampled_from([Frequency.WEEKLY, Frequency.FORTNIGHTLY]),
    )
    def test_weekly_and_fortnightly_are_evenly_spaced(
        self, first: date, count: int, frequency: Frequency
    ) -> None:
        """Weekly dates are 7 days apart, fortnightly 14, all on the first date's weekday."""
        dates = schedule_dates(first, count, frequency)
        step = 7 if frequency == Frequency.WEEKLY else 14
        assert all((b - a).days == step for a, b in itertools.pairwise(dates))
        assert {d.weekday() for d in dates} == {first.weekday()}

    @given(units=st.integers(1, 10**9), count=st.integers(1, 60))
    def test_instalments_sum_to_the_total(self, units: int, count: int) -> None:
        """Equal instalments differ by at most one minor unit and sum to the total exactly."""
        total = Money(Decimal(units).scaleb(-2), "CNY")
        if units < count:
            with pytest.raises(InvalidInput, match="count"):
                instalment_schedule(total, date(2027, 1, 31), count=count)
            return
        parts = instalment_schedule(total, date(2027, 1, 31), count=count)
        amounts = [p.amount.amount for p in parts]
        assert sum(amounts) == total.amount
        assert max(amounts) - min(amounts) <= Decimal("0.01")

    def test_minimum_payment_schedule(self) -> None:
        """A fixed amount each fortnight, the last instalment taking the rest."""
        parts = instalment_schedule(
            cny("1000.00"), date(2027, 1, 31), amount=cny("300.00"), frequency="fortnightly"
        )
        assert [str(p.amount.amount) for p in parts] == ["300.00", "300.00", "300.00", "100.00"]
        assert parts[-1].due == date(2027, 3, 14)

    def test_bad_schedules_are_refused(self) -> None:
        """Unknown frequency, zero count, both count and amount: each names its field."""
        with pytest.raises(InvalidInput, match="frequency"):
            schedule_dates(date(2027, 1, 31), 3, "yearly")
        with pytest.raises(InvalidInput, match="count"):
            schedule_dates(date(2027, 1, 31), 0)
        with pytest.raises(InvalidInput, match="count"):
            instalment_schedule(cny("10"), date(2027, 1, 31), count=2, amount=cny("5"))


class TestPlanModel:
    def test_documents_default_by_kind(self) -> None:
        """Extension needs proof of income; reduction also bank statements; minimum none."""
        parts = instalment_schedule(cny("100"), date(2027, 1, 31), count=2)
        assert extension().documents == ("proof_of_income",)
        reduction = RepaymentPlan(id="R", kind="reduction", instalments=parts, waived="20")
        assert reduction.documents == ("bank_statement", "proof_of_income")
        assert RepaymentPlan(id="M", kind="minimum", instalments=parts).documents == ()

    def test_only_a_reduction_waives(self) -> None:
        """A waived part on an extension plan, or none on a reduction plan, is refused."""
        parts = instalment_schedule(cny("100"), date(2027, 1, 31), count=2)
        with pytest.raises(ValidationError, match="waived"):
            RepaymentPlan(id="E", kind="extension", instalments=parts, waived="10")
        with pytest.raises(ValidationError, match="waived"):
            RepaymentPlan(id="R", kind="reduction", instalments=parts)

    def test_amounts_are_exact_in_the_schedules_currency(self) -> None:
        """Paid and waived get the currency's minor units; a plan's documents follow its kind."""
        parts = instalment_schedule(cny("100"), date(2027, 1, 31), count=2)
        plan = RepaymentPlan(id="E", kind="extension", instalments=parts)
        assert (str(plan.paid), str(plan.waived)) == ("0.00", "0.00")
        assert plan.required_documents == ("proof_of_income",)
        assert "required_documents" not in plan.model_fields_set
        reduction = RepaymentPlan(id="R", kind="reduction", instalments=parts, waived="10")
        assert str(reduction.waived) == "10.00"
        assert reduction.required_documents == ("bank_statement", "proof_of_income")
        own = RepaymentPlan(id="M", kind="extension", instalments=parts, required_documents=[])
        assert own.required_documents == ()
        with pytest.raises(ValidationError) as caught:
            RepaymentPlan(id="E", kind="extension", instalments=parts, paid="1.005")
        assert [error["loc"] for error in caught.value.errors()] == [("paid",)]
        assert "paid: got 1.005, expected an amount in CNY" in str(caught.value)

    def test_dates_must_increase(self) -> None:
        """Instalments out of date order are refused."""
        parts = instalment_schedule(cny("100"), date(2027, 1, 31), count=2)
        with pytest.raises(ValidationError, match="increasing"):
            RepaymentPlan(id="E", kind="minimum", instalments=parts[::-1])


class TestStartPlan:
    def test_missing_documents_are_named(self, engine: Engine, case_id: str) -> None:
        """Without proof of income the extension plan does not start and nothing is recorded."""
        length = len(engine.history(case_id))
        with pytest.raises(InvalidInput) as caught:
            engine.start_plan(case_id, extension(), actor=AGENT)
        assert caught.value.field == "required_documents"
        assert caught.value.value == ["proof_of_income"]
        assert len(engine.history(case_id)) == length

    def test_starts_once_documents_are_recorded(self, engine: Engine, case_id: str) -> None:
        """With the document recorded the plan starts and offer_plan fires."""
        engine.record_document(case_id, "proof_of_income", reference="DOC-2027-001")
        plan = engine.start_plan(case_id, extension(), actor=AGENT)
        case = engine.case(case_id)
        assert case.stage == "repayment_plan"
        assert plan.status == PlanStatus.ACTIVE
        assert plan.started_at == START
        assert case.documents == ("proof_of_income",)
        assert [e.kind for e in engine.history(case_id)[-2:]] == ["plan_started", "transition"]
        same(engine, case_id)

    def test_plan_must_cover_the_arrears(self, engine: Engine, case_id: str) -> None:
        """Instalments plus waiver different from the arrears are refused."""
        engine.record_document(case_id, "proof_of_income")
        parts = instalment_schedule(cny("11000.00"), date(2027, 1, 31), count=6)
        plan = RepaymentPlan(id="SHORT", kind="extension", instalments=parts)
        with pytest.raises(InvalidInput, match="equal to the arrears"):
            engine.start_plan(case_id, plan, actor=AGENT)

    def test_system_may_not_offer_a_plan(self, engine: Engine, case_id: str) -> None:
        """offer_plan is manual: the refusal is journaled and no plan is recorded."""
        with pytest.raises(TransitionDenied):
            engine.start_plan(case_id, extension(required_documents=()), actor=Actor("system"))
        assert engine.case(case_id).plan is None
        assert engine.history(case_id)[-1].kind == "refusal"

    def test_plan_supersedes_an_open_promise(self, engine: Engine, case_id: str) -> None:
        """A promise still open when the plan starts is marked superseded."""
        engine.record_promise(case_id, cny("500.00"), date(2027, 1, 25))
        engine.start_plan(case_id, extension(required_documents=()), actor=AGENT)
        assert engine.case(case_id).promise.status == PromiseStatus.SUPERSEDED  # type: ignore[union-attr]
        same(engine, case_id)


def pay_on(engine: Engine, clock: SettableClock, case_id: str, day: date, amount: Money) -> None:
    clock.set(shanghai(day))
    engine.record_payment(case_id, amount)
    engine.review_plan(case_id)


class TestPlanLifecycle:
    def test_completed_plan_resolves_the_case(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """Six instalments paid on their dates: the plan completes and the case is resolved."""
        plan = engine.start_plan(case_id, extension(required_documents=()), actor=AGENT)
        for part in plan.instalments:
            pay_on(engine, clock, case_id, part.due, part.amount)
        case = engine.case(case_id)
        assert case.plan.status == PlanStatus.COMPLETED  # type: ignore[union-attr]
        assert case.stage == "resolved"
        assert not case.balance.has_arrears
        same(engine, case_id)

    def test_reversing_an_earlier_instalment_reopens_the_completed_plan(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """The first instalment bounces after the sixth completed the plan: the plan is
        active again and the case back in `repayment_plan`, not left resolved."""
        plan = engine.start_plan(case_id, extension(required_documents=()), actor=AGENT)
        first = plan.instalments[0]
        clock.set(shanghai(first.due))
        engine.record_payment(case_id, first.amount, reference="FIRST")
        for part in plan.instalments[1:]:
            pay_on(engine, clock, case_id, part.due, part.amount)
        assert engine.case(case_id).stage == "resolved"
        clock.set(shanghai(date(2027, 8, 1)))
        reversal = engine.reverse_payment(case_id, "FIRST")
        assert reversal.reopened == ("resolved", "repayment_plan")
        case = engine.case(case_id)
        assert case.plan.status == PlanStatus.ACTIVE  # type: ignore[union-attr]
        assert case.arrears == first.amount
        same(engine, case_id)

    def test_a_late_instalment_caught_up_within_grace(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """Unpaid on its date it is recorded late once; paid within grace the plan goes on."""
        plan = engine.start_plan(
            case_id, extension(required_documents=(), grace_days=10), actor=AGENT
        )
        first, second = plan.instalments[:2]
        pay_on(engine, clock, case_id, first.due, first.amount)
        clock.set(shanghai(date(2027, 3, 3)))
        late = engine.review_plan(case_id)
        assert late is not None
        assert late.late == (1,)
        entry = engine.history(case_id)[-1]
        assert (entry.kind, entry.data["shortfall"]) == ("plan_instalment_late", "2000.00")
        engine.review_plan(case_id)
        assert engine.history(case_id)[-1] == entry  # recorded once
        pay_on(engine, clock, case_id, date(2027, 3, 8), second.amount)
        clock.set(shanghai(date(2027, 3, 12)))
        assert engine.review_plan(case_id).status == PlanStatus.ACTIVE  # type: ignore[union-attr]
        assert engine.case(case_id).stage == "repayment_plan"

    def test_missed_past_grace_breaks_to_the_stage_the_policy_names(
        self, clock: SettableClock
    ) -> None:
        """With plan_broken_to='field_visit' a missed instalment sends the case there."""
        engine = Engine(Workflow(standard_definition(plan_broken_to="field_visit")), clock=clock)
        case_id = engine.open_case(loan()).id
        engine.start_plan(case_id, extension(required_documents=(), grace_days=5), actor=AGENT)
        clock.set(shanghai(date(2027, 2, 5)))
        assert engine.review_plan(case_id).status == PlanStatus.ACTIVE  # type: ignore[union-attr]
        clock.set(shanghai(date(2027, 2, 6)))
        plan = engine.review_plan(case_id)
        assert plan is not None
        assert plan.status == PlanStatus.BROKEN
        assert engine.case(case_id).stage == "field_visit"
        assert engine.history(case_id)[-2].data["shortfall"] == "2000.00"
        same(engine, case_id)

    def test_reduction_waives_on_completion_only(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """CNY 2,000.00 waived when the last of CNY 10,000.00 is paid, not before."""
        for kind in ("proof_of_income", "bank_statement"):
            engine.record_document(case_id, kind)
        parts = instalment_schedule(cny("10000.00"), date(2027, 1, 31), count=2)
        plan = RepaymentPlan(id="RED-1", kind="reduction", instalments=parts, waived="2000")
        engine.start_plan(case_id, plan, actor=AGENT)
        pay_on(engine, clock, case_id, parts[0].due, parts[0].amount)
        assert engine.case(case_id).arrears == cny("7000.00")
        pay_on(engine, clock, case_id, parts[1].due, parts[1].amount)
        case = engine.case(case_id)
        assert case.arrears == cny("0.00")
        assert case.stage == "resolved"
        assert engine.history(case_id)[-2].data["waived"] == {"principal": "2000.00"}
        same(engine, case_id)

    def test_interest_freeze_stops_penalty_while_the_plan_runs(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """No penalty interest accrues during a plan with freeze_interest; it does after a break."""
        case_id = engine.open_case(loan(terms={"penalty_rate": "0.0005"})).id
        arrears = engine.arrears_at(case_id)
        assert arrears == cny("12120.00")  # 20 days x 6.00, charged when the plan starts
        parts = instalment_schedule(arrears, date(2027, 1, 31), count=3)
        plan = RepaymentPlan(
            id="FRZ", kind="extension", instalments=parts, freeze_interest=True, grace_days=3
        )
        engine.record_document(case_id, "proof_of_income")
        engine.start_plan(case_id, plan, actor=AGENT)
        clock.set(shanghai(date(2027, 2, 4)))
        charges = engine.accrue(case_id)
        assert charges is not None
        assert (charges.days, charges.penalty) == (0, cny("0.00"))
        engine.review_plan(case_id)  # 31 January missed: broken
        clock.set(shanghai(date(2027, 2, 14)))
        charges = engine.accrue(case_id)
        assert charges is not None
        assert charges.days == 10
        assert charges.penalty == cny("60.00")  # 12,000.00 principal x 0.05 % x 10 days
        same(engine, case_id)
