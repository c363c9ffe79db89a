"""Attacks on reversing a payment that did not itself close a case, when a later one did.

`arrears.reversals.reversal` now takes a case back from the transitions a
*later* close caused when that close no longer stands (the promise kept or the plan
completed open again, or arrears owed beyond the credit).  Each test tries one way to
break it: a transition between the payment reversed and the close, a forged
``payment_reversed``, credit left by a payment after the close, a promise kept apart
from the cure, a close by a waiver, two reversals in either order, a reversal then a
new payment, and random sequences of payments and reversals.
"""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import test_plans as plans
from arrears import (
    Actor,
    ApprovalLimits,
    Engine,
    JournalCorrupted,
    Money,
    SettableClock,
    TransitionDenied,
)
from arrears.events import replay
from arrears.journal import seal
from arrears.plans import RepaymentPlan, instalment_schedule
from test_payments import START, cny, loan

SUPERVISOR = Actor("sup-1", frozenset({"supervisor"}))
LIMITS = ApprovalLimits(limits={"supervisor": Money("50000.00", "CNY")})


def engine_at() -> tuple[Engine, SettableClock]:
    clock = SettableClock(START)
    return Engine(clock=clock), clock


def day(clock: SettableClock, days: int, hours: int = 0) -> None:
    clock.set(START + timedelta(days=days, hours=hours))


def owes_nothing_beyond_its_credit(engine: Engine, case_id: str) -> bool:
    """A case in ``resolved`` (paid in full) owes no arrears beyond its credit."""
    case = engine.case(case_id)
    return case.stage != "resolved" or case.arrears.amount <= case.balance.credit


def cured_after_an_escalation(engine: Engine, clock: SettableClock) -> str:
    """1,000 paid in ``sms`` on Monday, escalated to ``phone``, cured by 12,000 on Tuesday."""
    case_id = engine.open_case(loan(stage="sms")).id
    engine.record_payment(case_id, cny("1000.00"), reference="MON")
    day(clock, 0, 3)
    assert engine.fire(case_id, "escalate").dest == "phone"
    day(clock, 1)
    assert engine.record_payment(case_id, cny("12000.00"), reference="TUE").cured
    assert engine.case(case_id).stage == "resolved"
    return case_id


class TestVerify:
    def test_a_transition_between_the_payment_and_the_later_cure(self) -> None:
        """Monday's 1,000 in ``sms``, an escalation to ``phone``, Tuesday's 12,000 cures;
        Monday's bounces: back to ``phone`` (where the cure started), and the chain the
        engine wrote verifies and replays."""
        engine, clock = engine_at()
        case_id = cured_after_an_escalation(engine, clock)
        day(clock, 2)
        assert engine.reverse_payment(case_id, "MON").reopened == ("resolved", "phone")
        assert engine.verify() == []
        assert engine.replay(case_id) == engine.case(case_id)

    def test_a_forged_reversal_to_the_stage_before_an_escalation(self) -> None:
        """The same chain, and a ``payment_reversed`` sealed as a forger who can hash
        would, moving the case back to ``sms``: refused."""
        engine, clock = engine_at()
        case_id = cured_after_an_escalation(engine, clock)
        forged_reversal_refused(engine, case_id, {"from": "resolved", "to": "sms"})

    def test_a_forged_reversal_undoing_an_escalation_no_payment_caused(self) -> None:
        """1,000 paid in ``sms``, escalated to ``phone``; nothing closed.  A forged
        reversal moving the case back to ``sms`` is refused."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="sms")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 0, 3)
        engine.fire(case_id, "escalate")
        forged_reversal_refused(engine, case_id, {"from": "phone", "to": "sms"})


def forged_reversal_refused(engine: Engine, case_id: str, stage: dict[str, str]) -> None:
    """A reversal of the case's payment of 1,000 (reference ``MON``) moving the case as
    *stage* says, sealed after its chain as a forger who can hash would: refused."""
    chain = list(engine.history(case_id))
    payment = next(e for e in chain if e.kind == "payment")
    data = {
        "reference": "MON",
        "payment_seq": payment.seq,
        "amount": "1000.00",
        "credit": "0.00",
        "restored": {"penalty": "120.00", "fees": "50.00", "interest": "360.00"},
        "actor": "system",
        "stage": stage,
    }
    last = chain[-1]
    chain.append(seal(case_id, last.seq + 1, last.at, "payment_reversed", data, last.hash))
    with pytest.raises(JournalCorrupted):
        replay(chain, None, check=engine.workflow.entry_problem)


class TestWhatStaysClosed:
    def test_reversing_credit_that_covered_an_earlier_reversal(self) -> None:
        """Monday 1,000; Tuesday 11,530 cures exactly; Wednesday 1,000 more (credit).
        Monday's bounces (the credit covers it: resolved), then Wednesday's: the case
        owes 1,000 and holds nothing, so it is back in ``phone``."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 1)
        assert engine.record_payment(case_id, cny("11530.00"), reference="TUE").cured
        day(clock, 2)
        engine.record_payment(case_id, cny("1000.00"), reference="WED")
        day(clock, 3)
        assert engine.reverse_payment(case_id, "MON").reopened is None  # the credit covers it
        day(clock, 4)
        engine.reverse_payment(case_id, "WED")
        case = engine.case(case_id)
        assert (case.arrears, case.balance.credit) == (cny("1000.00"), Decimal("0.00"))
        assert case.stage == "phone"

    def test_the_same_reversals_the_other_way_round(self) -> None:
        """Wednesday's credit reversed first, then Monday's: back in ``phone`` owing 1,000."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 1)
        engine.record_payment(case_id, cny("11530.00"), reference="TUE")
        day(clock, 2)
        engine.record_payment(case_id, cny("1000.00"), reference="WED")
        day(clock, 3)
        assert engine.reverse_payment(case_id, "WED").reopened is None
        day(clock, 4)
        assert engine.reverse_payment(case_id, "MON").reopened == ("resolved", "phone")
        case = engine.case(case_id)
        assert (case.stage, case.arrears, case.balance.credit) == (
            "phone",
            cny("1000.00"),
            Decimal("0.00"),
        )
        assert engine.verify() == []

    def test_a_promise_kept_apart_from_the_cure(self) -> None:
        """A promise of 3,000 in ``pre_due`` (no ``promise`` edge from there): 1,000 and
        2,000 keep it, 9,530 more cures the case.  The 1,000 bounces: the promise is open
        again and 1,000 is owed, so the case is back in ``pre_due``, not resolved."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="pre_due")).id
        engine.record_promise(case_id, cny("3000.00"), date(2027, 1, 25))
        day(clock, 0, 2)
        engine.record_payment(case_id, cny("1000.00"), reference="A")
        day(clock, 0, 3)
        engine.record_payment(case_id, cny("2000.00"), reference="B")
        day(clock, 0, 4)
        assert engine.record_payment(case_id, cny("9530.00"), reference="C").cured
        day(clock, 0, 5)
        engine.reverse_payment(case_id, "A")
        case = engine.case(case_id)
        assert case.promise is not None
        assert case.promise.status == "open"
        assert case.arrears == cny("1000.00")
        assert case.stage == "pre_due"

    def test_a_payment_before_a_promise_a_later_payment_kept(self) -> None:
        """1,000 paid in ``phone``; then a promise of 3,000, kept by a payment of 3,000
        (``promise_kept`` to ``notified``, arrears still owed).  The 1,000 bounces: it
        never counted towards the promise, which stays kept, so the case stays in
        ``notified`` owing 1,000 more, and the chain verifies."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="PRE")
        day(clock, 0, 1)
        engine.record_promise(case_id, cny("3000.00"), date(2027, 1, 25))
        day(clock, 0, 2)
        engine.record_payment(case_id, cny("3000.00"), reference="KEEP")
        assert engine.case(case_id).stage == "notified"
        day(clock, 0, 3)
        engine.reverse_payment(case_id, "PRE")
        case = engine.case(case_id)
        assert case.promise is not None
        assert case.promise.status == "kept"
        assert case.arrears == cny("9530.00")
        assert case.stage == "notified"
        assert engine.verify() == []

    def test_a_payment_before_a_plan_later_payments_completed(self) -> None:
        """1,000 paid in ``phone``, then a plan of the 11,000 left, paid in two
        instalments (``plan_completed``: resolved).  The 1,000 bounces: the plan stands
        completed, but ``plan_completed`` stood on the arrears being cleared, which they
        no longer are: the case is back in ``repayment_plan``, owing the 1,000."""
        clock = SettableClock(plans.START)
        engine = Engine(clock=clock)
        case_id = engine.open_case(plans.loan()).id
        engine.record_payment(case_id, cny("1000.00"), reference="PRE")
        parts = instalment_schedule(cny("11000.00"), date(2027, 1, 31), count=2)
        plan = RepaymentPlan(
            id="PLAN-1", kind="extension", instalments=parts, required_documents=()
        )
        for part in engine.start_plan(case_id, plan, actor=plans.AGENT).instalments:
            plans.pay_on(engine, clock, case_id, part.due, part.amount)
        assert engine.case(case_id).stage == "resolved"
        clock.set(plans.shanghai(date(2027, 4, 1)))
        engine.reverse_payment(case_id, "PRE")
        case = engine.case(case_id)
        assert case.plan is not None
        assert case.plan.status == "completed"
        assert (case.stage, case.arrears) == ("repayment_plan", cny("1000.00"))
        assert engine.verify() == []

    def test_a_promise_over_two_loans_kept_on_the_other(self) -> None:
        engine, clock = engine_at()
        debtor = {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"}
        one = engine.open_case(loan(id="L-1", debtor=debtor, stage="phone")).id
        two = engine.open_case(loan(id="L-2", debtor=debtor, stage="phone")).id
        engine.record_promise(one, cny("13000.00"), date(2027, 1, 25), covers=[two])
        day(clock, 0, 2)
        engine.record_payment(one, cny("500.00"), reference="A1")
        day(clock, 0, 3)
        engine.record_payment(one, cny("12030.00"), reference="A2")
        assert engine.case(one).stage == "resolved"  # its share paid: cured
        day(clock, 0, 4)
        engine.record_payment(two, cny("470.00"), reference="B1")  # keeps the promise
        day(clock, 0, 5)
        engine.reverse_payment(one, "A1")
        assert engine.case(two).stage == "promise"
        case = engine.case(one)
        assert case.arrears == cny("500.00")
        assert case.stage != "resolved"

    def test_a_case_a_waiver_of_the_rest_cured(self) -> None:
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 1)
        engine.waive(case_id, cny("11530.00"), actor=SUPERVISOR, limits=LIMITS)
        assert engine.case(case_id).stage == "resolved"
        day(clock, 2)
        engine.reverse_payment(case_id, "MON")
        assert owes_nothing_beyond_its_credit(engine, case_id)


class TestWithstood:
    def test_both_payments_reversed_in_either_order(self) -> None:
        """Monday's 1,000 and Tuesday's curing 12,000 both bounce, in either order: the
        case is back in ``phone`` owing everything, and the chain verifies."""
        for first, second in (("MON", "TUE"), ("TUE", "MON")):
            engine, clock = engine_at()
            case_id = engine.open_case(loan(stage="phone")).id
            engine.record_payment(case_id, cny("1000.00"), reference="MON")
            day(clock, 1)
            engine.record_payment(case_id, cny("12000.00"), reference="TUE")
            day(clock, 2)
            assert engine.reverse_payment(case_id, first).reopened == ("resolved", "phone")
            day(clock, 3)
            assert engine.reverse_payment(case_id, second).reopened is None
            case = engine.case(case_id)
            assert (case.stage, case.arrears, case.balance.credit) == (
                "phone",
                cny("12530.00"),
                Decimal("0.00"),
            )
            assert engine.verify() == []
            assert engine.replay(case_id) == case

    def test_a_reversal_then_a_new_payment_cures_again(self) -> None:
        """Monday's bounce re-opens the case; Thursday's 1,000 cures it again, and a
        reversal of Tuesday's then takes it back from Thursday's cure."""
        engine, clock = engine_at()
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 1)
        engine.record_payment(case_id, cny("12000.00"), reference="TUE")
        day(clock, 2)
        engine.reverse_payment(case_id, "MON")
        day(clock, 3)
        assert engine.record_payment(case_id, cny("1000.00"), reference="THU").cured
        assert engine.case(case_id).stage == "resolved"
        day(clock, 4)
        assert engine.reverse_payment(case_id, "TUE").reopened == ("resolved", "phone")
        assert engine.case(case_id).arrears == cny("11530.00")  # Tuesday's 470 credit goes too
        assert engine.verify() == []

    def test_credit_spent_on_a_later_instalment_no_longer_covers(self) -> None:
        """Tuesday's overpayment (470) cures the case to ``pre_due``; a 2,000 instalment
        falls due and takes the credit; Monday's 1,000 bounces: nothing covers it now,
        the case goes back to ``phone`` owing both."""
        engine, clock = engine_at()
        balance = {**loan()["balance"], "not_due": "6000.00"}
        case_id = engine.open_case(loan(stage="phone", balance=balance)).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        day(clock, 1)
        engine.record_payment(case_id, cny("12000.00"), reference="TUE")
        assert engine.case(case_id).stage == "pre_due"
        day(clock, 3)
        engine.fall_due(case_id, cny("2000.00"), due=date(2027, 1, 23))
        assert engine.case(case_id).balance.credit == 0
        day(clock, 4)
        assert engine.reverse_payment(case_id, "MON").reopened == ("pre_due", "phone")
        assert engine.case(case_id).arrears == cny("2530.00")
        assert engine.verify() == []


PAY = st.one_of(
    st.sampled_from([100_00, 1000_00, 11530_00, 12000_00, 13000_00]),
    st.integers(1, 2_000_000),
)
OPS = st.lists(
    st.one_of(st.tuples(st.just("pay"), PAY), st.tuples(st.just("reverse"), st.integers(0, 9))),
    max_size=8,
)


def run_ops(ops: list[tuple[str, int]], stage: str, not_due: str, escalate: bool) -> Engine:
    """Payments and reversals an hour apart (with *escalate*, an escalation before each
    payment where the ladder allows), checking the chain after each step."""
    engine, clock = engine_at()
    balance: dict[str, Any] = {**loan()["balance"], "not_due": not_due}
    case_id = engine.open_case(loan(balance=balance, stage=stage)).id
    refs: list[str] = []
    for n, (op, value) in enumerate(ops):
        day(clock, 0, n + 1)
        if op == "pay":
            if escalate and engine.case(case_id).stage in ("notified", "sms"):
                with contextlib.suppress(TransitionDenied):
                    engine.fire(case_id, "escalate")
            engine.record_payment(
                case_id, Money(Decimal(value).scaleb(-2), "CNY"), reference=f"P{n}"
            )
            refs.append(f"P{n}")
        elif refs:
            engine.reverse_payment(case_id, refs.pop(value % len(refs)))
        assert engine.verify() == []
        assert engine.replay(case_id) == engine.case(case_id)
        case = engine.case(case_id)  # credit pays arrears: never both at once
        assert not (case.balance.credit > 0 and case.arrears.amount > 0), (op, value)
    return engine


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=OPS,
    stage=st.sampled_from(["notified", "sms", "phone"]),
    not_due=st.sampled_from(["0", "6000.00"]),
)
def test_payments_and_reversals_verify(
    ops: list[tuple[str, int]], stage: str, not_due: str
) -> None:
    """Any sequence of payments and reversals on one case writes a chain that verifies
    and replays to the live case (no transition other than those payments cause)."""
    run_ops(ops, stage, not_due, escalate=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, stage=st.sampled_from(["notified", "sms"]))
@example(ops=[("pay", 1153000), ("pay", 100000), ("reverse", 0)], stage="notified")
def test_payments_reversals_and_escalations_verify(ops: list[tuple[str, int]], stage: str) -> None:
    """The same with escalations between the payments."""
    run_ops(ops, stage, "0", escalate=True)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, stage=st.sampled_from(["notified", "sms", "phone"]))
@example(
    ops=[("pay", 100000), ("pay", 1153000), ("pay", 100000), ("reverse", 0), ("reverse", 1)],
    stage="phone",
)
def test_a_resolved_case_owes_nothing_beyond_its_credit(
    ops: list[tuple[str, int]], stage: str
) -> None:
    """After any sequence of payments and reversals, a case in ``resolved`` owes no
    arrears beyond the credit it holds."""
    engine = run_ops(ops, stage, "0", escalate=False)
    assert owes_nothing_beyond_its_credit(engine, "LN-12000")
