"""`arrears.kpi`: collection KPIs read from the journal alone, overall and per variant."""

from __future__ import annotations

import contextlib
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from arrears import (
    Actor,
    ApprovalDenied,
    ApprovalLimits,
    Engine,
    InvalidInput,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
    instalment_schedule,
    kpi,
)
from arrears.compliance import Compliance
from arrears.journal import read_jsonl
from arrears.kpi import DEFAULT_COSTS, KpiReport, Kpis, kpis_from_journal

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
END = START + timedelta(days=30)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


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
    assert kpis.past_due == Decimal("4000.00")
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
    assert lines[0] == (
        "window 2026-09-01 09:00+08:00 to 2026-10-01 09:00+08:00 (30 days): "
        "1 complete 30-day period(s)"
    )
    assert lines[1].split() == ["KPI", "all", "challenger", "champion"]
    assert lines[5].split() == ["cure", "rate", "50.0%", "0.0%", "100.0%"]
    assert [line.split() for line in lines if "CN-HOURS" in line] == [["CN-HOURS", "1", "1", "0"]]


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
    assert report.days == 4  # whole days from the first opening past the last entry
    assert report.end == START + timedelta(days=4)
    assert report.overall.collected == Decimal("2000.00")


def test_an_empty_journal() -> None:
    report = kpis_from_journal([])
    assert report.overall.cases == 0
    assert report.overall.cure_rate is None
    assert "cases" in report.table()


# -- Every kind of ending, read through the journal's own `apply_entry` ------------------

AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))
RISK = Actor("risk-9", frozenset({"risk_officer"}))
LIMITS = ApprovalLimits(limits={"agent": cny("500.00"), "supervisor": cny("5000.00")})


def at(day: int, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* September 2026 in Shanghai."""
    return datetime(2026, 9, day, hour, tzinfo=SHANGHAI)


def overdue_loan(**overrides: object) -> dict[str, object]:
    """CNY 3,500.00 overdue since 20 August 2026 (M1 on 1 September), in the phone stage."""
    data: dict[str, object] = {
        "id": "LN-3500",
        "debtor": {"id": "D-3500", "timezone": "Asia/Shanghai"},
        "balance": {"currency": "CNY", "principal": "3500.00"},
        "due_date": "2026-08-20",
        "stage": "phone",
    }
    data.update(overrides)
    return data


def one_case(engine: Engine, case_id: str) -> Kpis:
    """The KPIs of one case over September 2026 (one 30-day period)."""
    return kpis_from_journal([(case_id, engine.history(case_id))], start=START, end=END).overall


def reduction_plan_completed(engine: Engine) -> str:
    """CNY 3,500.00 settled by a reduction plan: 500.00 paid on 3 September, 3,000.00 waived."""
    case_id = engine.open_case(overdue_loan(), at=START).id
    for kind in ("proof_of_income", "bank_statement"):
        engine.record_document(case_id, kind, at=at(1, 10))
    plan = RepaymentPlan(
        id="RED-1",
        kind="reduction",
        instalments=instalment_schedule(cny("500.00"), date(2026, 9, 5), count=1),
        waived="3000.00",
    )
    engine.start_plan(case_id, plan, actor=AGENT, at=at(1, 11))
    engine.record_payment(case_id, cny("500.00"), reference="BANK-500", at=at(3))
    return case_id


def test_a_completed_reduction_plan_cures_the_case() -> None:
    """The plan's 3,000.00 waiver clears the arrears: cured, and out of the buckets."""
    engine = Engine(clock=SettableClock(START))
    case_id = reduction_plan_completed(engine)
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("0.00"), "resolved")
    kpis = one_case(engine, case_id)
    assert (kpis.past_due_cases, kpis.cured, kpis.cure_rate) == (1, 1, 1.0)
    assert kpis.flows == {("M1", "paid"): 1}
    assert kpis.past_due == Decimal("3500.00")
    assert kpis.collected == Decimal("500.00")
    assert kpis.recovery_rate == pytest.approx(500 / 3500)


def test_reversing_the_payment_that_completed_a_reduction_plan() -> None:
    """The waiver is undone with the payment; the payment is not collected on any day."""
    engine = Engine(clock=SettableClock(START))
    case_id = reduction_plan_completed(engine)
    engine.reverse_payment(case_id, "BANK-500", at=at(6), reason="returned by the bank")
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("3500.00"), "repayment_plan")
    kpis = one_case(engine, case_id)
    assert kpis.collected == Decimal("0.00")
    assert kpis.collected_by_day[2] == kpis.collected_by_day[5] == Decimal("0.00")
    assert (kpis.cured, kpis.cure_rate) == (0, 0.0)
    assert kpis.flows == {("M1", "M2"): 1}  # 42 days past due on 1 October


def test_a_settlement_collects_what_was_paid_and_cures() -> None:
    """2,000.00 in full and final settlement of 3,500.00: cured, 2,000.00 collected."""
    engine = Engine(clock=SettableClock(START))
    case_id = engine.open_case(overdue_loan(), at=START).id
    engine.settle(case_id, cny("2000.00"), actor=SUPERVISOR, limits=LIMITS, at=at(4))
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("0.00"), "settled")
    kpis = one_case(engine, case_id)
    assert (kpis.cured, kpis.cure_rate) == (1, 1.0)
    assert kpis.collected == Decimal("2000.00")
    assert kpis.collected_by_day[3] == Decimal("2000.00")
    assert kpis.recovery_rate == pytest.approx(2000 / 3500)
    assert kpis.flows == {("M1", "paid"): 1}


def instalment_loan(engine: Engine) -> str:
    """A loan of two CNY 1,000.00 instalments, the second overdue since 20 August.

    The first, due 20 June, was paid on 3 July; the second fell due on 20 August,
    so the case is in M1 on 1 September (not M3, as counted from 20 June).
    """
    opened = datetime(2026, 7, 1, 10, tzinfo=SHANGHAI)
    record = overdue_loan(
        id="LN-2000",
        balance={"currency": "CNY", "principal": "1000.00", "not_due": "1000.00"},
        due_date="2026-06-20",
    )
    case_id = engine.open_case(record, at=opened).id
    engine.record_payment(case_id, cny("1000.00"), at=opened + timedelta(days=2))
    engine.fall_due(
        case_id,
        cny("1000.00"),
        due=date(2026, 8, 20),
        at=datetime(2026, 8, 20, 10, tzinfo=SHANGHAI),
    )
    assert engine.case(case_id).bucket(START) == "M1"
    return case_id


def test_a_payment_cures_from_the_bucket_of_the_instalment_it_pays() -> None:
    """The second instalment paid on 10 September: cured from M1 (its own due date)."""
    engine = Engine(clock=SettableClock(START))
    case_id = instalment_loan(engine)
    engine.record_payment(case_id, cny("1000.00"), at=at(10))
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("0.00"), "resolved")
    kpis = one_case(engine, case_id)
    assert (kpis.cured, kpis.cure_rate) == (1, 1.0)
    assert kpis.collected == Decimal("1000.00")  # the first payment was before September
    assert kpis.flows == {("M1", "paid"): 1}
    assert kpis.roll_rates() == {"M1→M2": 0.0}


def test_a_waiver_of_the_rest_cures_from_the_bucket_of_the_instalment() -> None:
    """900.00 paid and the last 100.00 waived on 12 September: cured from M1."""
    engine = Engine(clock=SettableClock(START))
    case_id = instalment_loan(engine)
    engine.record_payment(case_id, cny("900.00"), at=at(12))
    engine.waive(case_id, cny("100.00"), actor=AGENT, limits=LIMITS, at=at(12, 11))
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("0.00"), "resolved")
    kpis = one_case(engine, case_id)
    assert (kpis.cured, kpis.cure_rate) == (1, 1.0)
    assert kpis.collected == Decimal("900.00")
    assert kpis.flows == {("M1", "paid"): 1}


def test_a_written_off_case_rolls_from_the_bucket_of_its_instalment() -> None:
    """Written off on 20 September with 1,000.00 overdue: not cured, M1 to M2 (not M3 to M4)."""
    engine = Engine(clock=SettableClock(START))
    case_id = instalment_loan(engine)
    engine.fire(case_id, "write_off", actor=SUPERVISOR, approver=RISK, at=at(20))
    case = engine.case(case_id)
    assert (case.arrears, case.stage) == (cny("1000.00"), "written_off")
    assert case.bucket(END) == "M2"
    kpis = one_case(engine, case_id)
    assert (kpis.cured, kpis.cure_rate, kpis.collected) == (0, 0.0, Decimal(0))
    assert kpis.flows == {("M1", "M2"): 1}
    assert kpis.roll_rates() == {"M1→M2": 1.0}


# -- Random stories through the public Engine API ----------------------------------------


def fen(units: int) -> Money:
    return Money(Decimal(units).scaleb(-2), "CNY")


ENDINGS = ("cure", "plan", "settlement", "waiver", "write_off", "none")
STEP = st.one_of(
    st.tuples(st.just("wait"), st.integers(0, 47)),  # hours
    st.tuples(st.just("pay"), st.integers(1, 150_000)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("waive"), st.integers(1, 60_000)),
    st.tuples(st.just("promise"), st.integers(1, 300_000)),
    st.tuples(st.just("keep"), st.just(0)),
    st.tuples(st.just("plan"), st.integers(1, 99)),
    st.tuples(st.just("plan_pay"), st.just(0)),
    st.tuples(st.just("fall_due"), st.integers(1, 100_000)),
    st.tuples(st.just("review"), st.just(0)),
)
STORY = st.tuples(
    st.booleans(),  # with agreement terms (penalty interest and a late fee)
    st.lists(STEP, max_size=6),
    st.sampled_from(ENDINGS),
    st.integers(1, 99),  # the share paid or settled at the end, in per cent
    st.booleans(),  # then the last payment is reversed
)


class Story:
    """Cases driven through the public Engine API; what was collected, counted on the side."""

    def __init__(self) -> None:
        self.clock = SettableClock(START)
        self.engine = Engine(clock=self.clock)
        self.engine.approval_limits = LIMITS
        self.paid: dict[str, Decimal] = {}  # by reference
        self.references: dict[str, list[str]] = {}  # by case, not yet reversed
        self.collected: dict[str, Decimal] = {}  # by case

    def open(self, index: int, terms: bool) -> str:
        record = overdue_loan(
            id=f"LN-{index}",
            balance={"currency": "CNY", "principal": "3500.00", "not_due": "1000.00"},
        )
        if terms:
            record["terms"] = {
                "penalty_rate": "0.0005",
                "late_fee": {"amount": "50.00", "currency": "CNY"},
            }
        case_id = self.engine.open_case(record).id
        for kind in ("proof_of_income", "bank_statement"):
            self.engine.record_document(case_id, kind)
        self.references[case_id] = []
        self.collected[case_id] = Decimal(0)
        return case_id

    def today(self, case_id: str) -> date:
        return self.engine.case(case_id).local_date(self.clock.now())

    def pay(self, case_id: str, amount: Money) -> None:
        if amount.is_zero:
            return
        reference = f"PAY-{len(self.paid) + 1}"
        try:
            self.engine.record_payment(case_id, amount, reference=reference)
        except InvalidInput:
            return
        self.paid[reference] = amount.amount
        self.references[case_id].append(reference)
        self.collected[case_id] += amount.amount

    def reverse(self, case_id: str, choice: int) -> None:
        references = self.references[case_id]
        if references:
            reference = references.pop(choice % len(references))
            self.engine.reverse_payment(case_id, reference)
            self.collected[case_id] -= self.paid[reference]

    def plan(self, case_id: str, waived_pct: int) -> bool:
        """Start a reduction plan for the arrears now, *waived_pct* of them waived."""
        arrears = self.engine.arrears_at(case_id)
        waived = (arrears.amount * waived_pct / 100).quantize(Decimal("0.01"))
        rest = arrears.amount - waived
        if not waived or rest <= 0:
            return False
        first = self.today(case_id) + timedelta(days=1)
        plan = RepaymentPlan(
            id=f"PLAN-{len(self.engine.history(case_id))}",
            kind="reduction",
            instalments=instalment_schedule(Money(rest, "CNY"), first, count=2),
            waived=waived,
        )
        try:
            self.engine.start_plan(case_id, plan, actor=AGENT)
        except (InvalidInput, TransitionDenied):
            return False
        return True

    def plan_pay(self, case_id: str) -> None:
        """Pay the active plan's next instalment (what is due through it, less what was paid)."""
        plan = self.engine.case(case_id).plan
        if plan is None or not plan.is_active:
            return
        for index in range(len(plan.instalments)):
            owed = plan.due_through(index).amount - plan.paid
            if owed > 0:
                self.pay(case_id, Money(owed, "CNY"))
                return

    def step(self, case_id: str, kind: str, value: int) -> None:
        engine = self.engine
        if kind == "wait":
            self.clock.advance(hours=value)
        elif kind == "pay":
            self.pay(case_id, fen(value))
        elif kind == "reverse":
            self.reverse(case_id, value)
        elif kind == "waive":
            with contextlib.suppress(ApprovalDenied, InvalidInput):
                engine.waive(case_id, fen(value), actor=AGENT)
        elif kind == "promise":
            outstanding = engine.case(case_id).balance.outstanding
            amount = min(fen(value), outstanding)
            if not amount.is_zero:
                due = self.today(case_id) + timedelta(days=3)
                with contextlib.suppress(InvalidInput, TransitionDenied):
                    engine.record_promise(case_id, amount, due)
        elif kind == "keep":
            promise = engine.case(case_id).promise
            if promise is not None and promise.is_open:
                self.pay(case_id, promise.remaining)
        elif kind == "plan":
            self.plan(case_id, value)
        elif kind == "plan_pay":
            self.plan_pay(case_id)
        elif kind == "fall_due":
            not_due = engine.case(case_id).balance.not_due
            falling = min(fen(value).amount, not_due)
            if falling:
                engine.fall_due(case_id, Money(falling, "CNY"), due=self.today(case_id))
        else:
            engine.review_promises(case_id)
            engine.review_plan(case_id)

    def end(self, case_id: str, ending: str, pct: int) -> None:
        engine = self.engine
        if ending == "cure":
            self.pay(case_id, engine.arrears_at(case_id))
        elif ending == "plan":
            if self.plan(case_id, pct):
                self.plan_pay(case_id)
                self.plan_pay(case_id)
        elif ending == "settlement":
            owed = engine.case(case_id).balance.outstanding.amount
            amount = (owed * pct / 100).quantize(Decimal("0.01"))
            if amount:
                try:
                    engine.settle(case_id, Money(amount, "CNY"), actor=SUPERVISOR, approver=RISK)
                except (ApprovalDenied, InvalidInput, TransitionDenied):
                    return
                self.collected[case_id] += amount
        elif ending == "waiver":
            arrears = engine.arrears_at(case_id).amount
            self.pay(case_id, Money((arrears * pct / 100).quantize(Decimal("0.01")), "CNY"))
            rest = engine.case(case_id).arrears
            if not rest.is_zero:
                with contextlib.suppress(ApprovalDenied, InvalidInput):
                    engine.waive(case_id, rest, actor=SUPERVISOR)
        elif ending == "write_off":
            with contextlib.suppress(InvalidInput, TransitionDenied):
                engine.fire(case_id, "write_off", actor=SUPERVISOR, approver=RISK)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stories=st.lists(STORY, min_size=1, max_size=2))
def test_the_kpis_agree_with_the_engine_for_every_ending(
    stories: list[tuple[bool, list[tuple[str, int]], str, int, bool]],
) -> None:
    """Cured means no arrears left, the last bucket is the engine's, collected is paid less
    reversed: whether the case was cured, completed a plan, settled, waived or written off."""
    story = Story()
    case_ids = [story.open(index, terms) for index, (terms, *_) in enumerate(stories)]
    story.clock.advance(hours=1)  # every case starts the period in arrears
    for position in range(max(len(steps) for _, steps, *_ in stories)):
        for case_id, (_, steps, *_) in zip(case_ids, stories, strict=True):
            if position < len(steps):
                story.step(case_id, *steps[position])
    for case_id, (_, _, ending, pct, reverse) in zip(case_ids, stories, strict=True):
        story.end(case_id, ending, pct)
        if reverse:
            story.reverse(case_id, -1)
    end = story.clock.now() + timedelta(seconds=1)  # the window [START, end) holds every entry
    assert end - START < timedelta(days=30)  # one period (partial): from M1 to the last bucket

    engine = story.engine
    cleared = 0
    for case_id, (_, _, ending, _, _) in zip(case_ids, stories, strict=True):
        case = engine.case(case_id)
        one = kpis_from_journal([(case_id, engine.history(case_id))], start=START, end=end).overall
        last = case.bucket(end)  # M0 when nothing is past due and something is not yet due
        if case.balance.outstanding.is_zero:
            last = "paid"
        assert (one.cured == 1) == (case.days_past_due(end) == 0)  # nothing past due
        assert one.period_flows == [{("M1", last): 1}]
        assert one.flows == {}  # a partial period is never pooled
        assert one.collected == story.collected[case_id]
        folded = kpi._fold(engine.history(case_id))
        assert folded is not None
        assert folded.state_at(end + timedelta(seconds=1)).balance == case.balance
        cleared += case.days_past_due(end) == 0
        event(f"{ending}: {case.stage}, {'no arrears' if case.arrears.is_zero else 'arrears'}")
    report = kpis_from_journal(engine.store.chains(), start=START, end=end).overall
    assert (report.cases, report.past_due_cases, report.cured) == (
        len(stories),
        len(stories),
        cleared,
    )
    assert report.collected == sum(story.collected.values(), Decimal(0))


# -- The population of each figure, and the window's periods -------------------------------


def test_a_case_not_yet_past_due_at_entry_is_not_in_the_cure_rate() -> None:
    """Owed but due in five days: M0 at entry, so neither cured nor counted in recovery."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(overdue_loan(id="DUE", due_date="2026-09-06", stage="pre_due"), at=START)
    engine.open_case(overdue_loan(id="LATE"), at=START)
    engine.record_payment("DUE", cny("3500.00"), at=at(3))
    kpis = kpis_from_journal(engine.store.chains(), start=START, end=END).overall
    assert (kpis.cases, kpis.past_due_cases, kpis.cured, kpis.cure_rate) == (2, 1, 0, 0.0)
    assert kpis.past_due == Decimal("3500.00")  # LATE's; DUE was not past due
    assert (kpis.collected, kpis.collected_past_due) == (Decimal("3500.00"), Decimal(0))
    assert kpis.recovery_rate == 0.0
    assert kpis.period_flows == [{("M0", "paid"): 1, ("M1", "M2"): 1}]


def test_a_partial_period_is_shown_on_its_own_and_never_pooled() -> None:
    """45 days: one complete period and a partial one of 15 days."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(overdue_loan(), at=START)
    end = START + timedelta(days=45)
    report = kpis_from_journal(engine.store.chains(), start=START, end=end)
    assert [(p.index, p.partial) for p in report.periods] == [(1, False), (2, True)]
    assert report.periods[1].label == "2: 10-01→10-16 (partial, 15 days)"
    kpis = report.overall
    assert kpis.roll_counts(1) == {"M1→M2": (1, 1)}
    assert kpis.roll_counts(2) == {"M2→M3": (0, 1)}  # 42 to 57 days past due
    assert kpis.roll_counts() == {"M1→M2": (1, 1)}
    assert report.window().endswith("1 complete 30-day period(s) and 1 partial period (15 days)")
    with pytest.raises(InvalidInput, match="period"):
        kpis.roll_counts(3)


def test_a_roll_counts_the_next_bucket_or_worse() -> None:
    """A due date moved back by a backdated instalment: M1 to M3 in one period is a roll."""
    engine = Engine(clock=SettableClock(START))
    record = overdue_loan(balance={"currency": "CNY", "not_due": "3500.00"}, due_date="2026-09-05")
    record["stage"] = "pre_due"
    engine.open_case(record, at=START)
    engine.fall_due("LN-3500", cny("3500.00"), due=date(2026, 8, 1), at=at(2))
    kpis = one_case(engine, "LN-3500")
    assert kpis.period_flows == [{("M0", "M3"): 1}]
    assert kpis.roll_rates() == {"M0→M1": 1.0}


def test_the_window_must_end_after_it_starts() -> None:
    engine = Engine(clock=SettableClock(START))
    engine.open_case(overdue_loan(), at=START)
    with pytest.raises(InvalidInput, match="end"):
        kpis_from_journal(engine.store.chains(), start=START, end=START)


def test_the_window_stays_within_the_calendar_every_time_zone_holds() -> None:
    """A window to the last second the parser accepts (``--to 9999-12-31T23:59:59-12:00``)
    is refused naming its end, not a crash converting it to the debtor's time zone; the
    day after the latest due date is the last end taken."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(overdue_loan(), at=START)
    last = datetime(9999, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Etc/GMT+12"))
    with pytest.raises(InvalidInput, match="end: got '9999-12-31T23:59:59-12:00'"):
        kpis_from_journal(engine.store.chains(), start=START, end=last)
    first = datetime(1, 1, 1, tzinfo=ZoneInfo("Etc/GMT-14"))
    with pytest.raises(InvalidInput, match="start: got '0001-01-01T00:00:00\\+14:00'"):
        kpis_from_journal(engine.store.chains(), start=first, end=START)
    bound = datetime(3000, 1, 1, tzinfo=ZoneInfo("UTC"))
    report = kpis_from_journal(engine.store.chains(), start=START, end=bound)
    assert report.periods[-1].end == bound
