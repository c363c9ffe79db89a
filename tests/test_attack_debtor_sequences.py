"""Random sequences on two loans of one debtor: payments to a loan and to the debtor
(shared across loans), their reversals, instalments falling due, waivers and promises.

After any of them every chain verifies and replays to the live case, no case stands in a
terminal stage while it owes beyond its credit, and no case shows arrears and credit
together.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arrears import Actor, ApprovalLimits, Engine, Money, SettableClock
from arrears.errors import ArrearsError
from arrears.plans import RepaymentPlan, instalment_schedule
from test_reversal_due_dates import monthly_loan, shanghai

AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("sup-1", frozenset({"supervisor"}))
LIMITS = ApprovalLimits(limits={"supervisor": Money("50000.00", "CNY")})
LOANS = ("LN-A", "LN-B")

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("due"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("pay"), st.integers(0, 1), st.integers(1, 250_000)),
        st.tuples(st.just("pay_debtor"), st.just(0), st.integers(1, 400_000)),
        st.tuples(st.just("reverse"), st.just(0), st.integers(0, 9)),
        st.tuples(st.just("waive"), st.integers(0, 1), st.integers(1, 150_000)),
        st.tuples(st.just("promise"), st.integers(0, 1), st.integers(1, 200_000)),
        st.tuples(st.just("review"), st.integers(0, 1), st.just(0)),
        st.tuples(st.just("plan"), st.integers(0, 1), st.integers(1, 3)),
        st.tuples(st.just("plan_both"), st.just(0), st.integers(1, 3)),
        st.tuples(st.just("dispute"), st.integers(0, 1), st.just(0)),
    ),
    max_size=12,
)


def cny(cents: int) -> Money:
    return Money(Decimal(cents).scaleb(-2), "CNY")


def run(steps: list[tuple[str, int, int]]) -> Engine:
    start = date(2027, 3, 2)
    clock = SettableClock(shanghai(start))
    engine = Engine(clock=clock)
    for loan_id in LOANS:
        engine.open_case(monthly_loan(id=loan_id))
    paid: list[tuple[str, str | None]] = []  # (reference, loan or None for the debtor's)
    month = dict.fromkeys(LOANS, 4)
    for index, (step, which, value) in enumerate(steps):
        clock.set(shanghai(start + timedelta(days=index)))
        loan_id = LOANS[which]
        try:
            if step == "due" and month[loan_id] <= 6:
                engine.fall_due(loan_id, cny(100_000), due=date(2027, month[loan_id], 1))
                month[loan_id] += 1
            elif step == "pay":
                engine.record_payment(loan_id, cny(value), reference=f"P{index}")
                paid.append((f"P{index}", loan_id))
            elif step == "pay_debtor":
                engine.record_debtor_payment("D-1", cny(value), reference=f"D{index}")
                paid.append((f"D{index}", None))
            elif step == "reverse" and paid:
                reference, on = paid.pop(value % len(paid))
                if on is None:
                    engine.reverse_debtor_payment("D-1", reference)
                else:
                    engine.reverse_payment(on, reference)
            elif step == "waive":
                engine.waive(loan_id, cny(value), actor=SUPERVISOR, limits=LIMITS)
            elif step == "promise":
                due = start + timedelta(days=index + 3)
                engine.record_promise(loan_id, cny(value), due, actor=SUPERVISOR)
            elif step == "review":
                engine.review_promises(loan_id)
                engine.review_plan(loan_id)
            elif step in ("plan", "plan_both"):
                covers = [LOANS[1]] if step == "plan_both" else None
                owed = sum(
                    (engine.arrears_at(i).amount for i in (LOANS if covers else (loan_id,))),
                    Decimal(0),
                )
                if owed > 0:
                    first = start + timedelta(days=index + 1)
                    parts = instalment_schedule(Money(owed, "CNY"), first, count=value)
                    plan = RepaymentPlan(
                        id=f"PLAN-{index}",
                        kind="extension",
                        instalments=parts,
                        required_documents=(),
                    )
                    engine.start_plan(loan_id, plan, actor=AGENT, covers=covers)
            elif step == "dispute":
                engine.add_hold(loan_id, "dispute", "disputed")
        except ArrearsError:
            pass  # refused (more than the arrears, a closed case, ...): nothing recorded
    return engine


def check(engine: Engine) -> None:
    assert engine.verify() == []
    for loan_id in LOANS:
        case = engine.case(loan_id)
        assert engine.replay(loan_id) == case
        owing = case.arrears.amount - case.balance.credit
        assert not (case.arrears.amount > 0 and case.balance.credit > 0), (
            loan_id,
            case.arrears,
            case.balance.credit,
        )
        if engine.workflow.is_terminal(case.stage):
            assert owing <= 0, (loan_id, case.stage, case.arrears)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=[("plan", 1, 1), ("pay", 1, 100000), ("due", 1, 0)])
@example(steps=[("due", 0, 0), ("plan_both", 0, 2), ("pay_debtor", 0, 150000), ("reverse", 0, 0)])
def test_two_loans_of_one_debtor_stay_consistent(steps: list[tuple[str, int, int]]) -> None:
    check(run(steps))


def test_a_plan_completed_with_instalments_to_come_leaves_the_loan_running() -> None:
    """March's 1,000 paid by a one-instalment plan, three instalments still to come: the
    plan completes and the case goes back to ``pre_due``, as a cure would take it, not
    to ``resolved``; April's instalment, unpaid, is then owed on a live case the ladder
    collects.  A loan with nothing left to come is resolved."""
    engine = run([("plan", 1, 1), ("pay", 1, 100000)])
    case = engine.case("LN-B")
    assert (case.stage, case.plan and case.plan.status) == ("pre_due", "completed")
    engine = run([("plan", 1, 1), ("pay", 1, 100000), ("due", 1, 0)])
    case = engine.case("LN-B")
    assert (case.stage, case.arrears) == ("pre_due", cny(100_000))
    assert not engine.workflow.is_terminal(case.stage)
    check(engine)


#: One loan: instalments, payments, reversals and waivers, one step a day.
ONE_LOAN = st.lists(
    st.one_of(
        st.tuples(st.just("due"), st.just(0)),
        st.tuples(st.just("pay"), st.integers(1, 250_000)),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
        st.tuples(st.just("waive"), st.integers(1, 150_000)),
    ),
    max_size=10,
)


def run_one(
    steps: list[tuple[str, int]], skip: frozenset[int], only: frozenset[int] | None = None
) -> tuple[Engine, list[int], set[int]]:
    """*steps* on one monthly loan, leaving out the payments at *skip* and their
    reversals, and (with *only*) every waiver not in it; the payments reversed and the
    steps that were recorded."""
    start = date(2027, 3, 2)
    clock = SettableClock(shanghai(start))
    engine = Engine(clock=clock)
    engine.open_case(monthly_loan())
    paid: list[int] = []
    returned: list[int] = []
    done: set[int] = set()
    month = 4
    for index, (step, value) in enumerate(steps):
        clock.set(shanghai(start + timedelta(days=index)))
        try:
            if step == "due" and month <= 6:
                engine.fall_due("LN-M", cny(100_000), due=date(2027, month, 1))
                month += 1
            elif step == "pay":
                paid.append(index)
                if index not in skip:
                    engine.record_payment("LN-M", cny(value), reference=f"P{index}")
            elif step == "reverse" and paid:
                payment = paid.pop(value % len(paid))
                returned.append(payment)
                if payment not in skip:
                    engine.reverse_payment("LN-M", f"P{payment}")
            elif step == "waive" and (only is None or index in only):
                engine.waive("LN-M", cny(value), actor=SUPERVISOR, limits=LIMITS)
                done.add(index)
        except ArrearsError:
            pass
    return engine, returned, done


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ONE_LOAN)
def test_days_past_due_with_waivers_as_if_never_paid(steps: list[tuple[str, int]]) -> None:
    """With waivers among the payments, instalments and reversals, the case is as many
    days past due as if the payments returned had never been made (the same waivers
    granted), and stands where it would."""
    engine, returned, waived = run_one(steps, frozenset())
    never, _, _ = run_one(steps, frozenset(returned), frozenset(waived))
    case, without = engine.case("LN-M"), never.case("LN-M")
    assert case.arrears.amount - case.balance.credit == (
        without.arrears.amount - without.balance.credit
    )
    for day in (date(2027, 3, 25), date(2027, 5, 15), date(2027, 9, 1)):
        assert case.days_past_due(shanghai(day)) == without.days_past_due(shanghai(day))
    check_one = engine.verify()
    assert check_one == []
    assert engine.replay("LN-M") == case
