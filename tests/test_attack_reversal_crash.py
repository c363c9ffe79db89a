"""A store that fails between the writes of a reversal of a payment to the debtor.

A payment to the debtor pays a plan over two loans in full: the plan completes on both
and both cases close.  Its reversal writes on both loans (each share's
``payment_reversed``, the plan re-opened).  Whichever of those writes fails, nothing of
the reversal is stored on either loan, and the reversal sent again is recorded whole.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from arrears import Actor, Engine, Money, SettableClock
from arrears.plans import RepaymentPlan, instalment_schedule
from arrears.store import Store
from test_reversal_due_dates import monthly_loan, shanghai
from test_write_path_attacks import _Boom, state, store  # noqa: F401  (the fixture)

AGENT_ROLES = frozenset({"agent"})


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def planned_and_paid(engine: Engine, clock: SettableClock) -> None:
    """A plan of 2,000 over both loans, paid in full by one payment to the debtor."""
    for loan_id in ("LN-A", "LN-B"):
        engine.open_case(monthly_loan(id=loan_id))
    parts = instalment_schedule(cny("2000.00"), date(2027, 3, 5), count=1)
    plan = RepaymentPlan(id="PLAN-AB", kind="extension", instalments=parts, required_documents=())
    engine.start_plan("LN-A", plan, actor=Actor("agent-7", AGENT_ROLES), covers=["LN-B"])
    clock.set(shanghai(date(2027, 3, 4)))
    engine.record_debtor_payment("D-1", cny("2000.00"), reference="B-1")
    assert {engine.case(i).stage for i in ("LN-A", "LN-B")} == {"pre_due"}


def both(engine: Engine) -> dict[str, Any]:
    return {loan_id: state(engine, loan_id) for loan_id in ("LN-A", "LN-B")}


@pytest.mark.parametrize("failing", [1, 2, 3])
def test_a_reversal_cut_short_stores_nothing(store: Store, failing: int) -> None:  # noqa: F811
    clock = SettableClock(shanghai(date(2027, 3, 2)))
    engine = Engine(store=store, clock=clock)
    planned_and_paid(engine, clock)
    clock.set(shanghai(date(2027, 3, 6)))
    before = both(engine)
    store.fault.arm(failing)  # type: ignore[attr-defined]
    with pytest.raises(_Boom):  # its three writes: LN-A's reversal, LN-B's re-opening, reversal
        engine.reverse_debtor_payment("D-1", "B-1")
    assert both(engine) == before
    clock.advance(timedelta(minutes=5))
    engine.reverse_debtor_payment("D-1", "B-1")
    assert engine.verify() == []
    for loan_id in ("LN-A", "LN-B"):
        case = engine.case(loan_id)
        assert case.stage == "repayment_plan"
        assert case.plan is not None
        assert str(case.plan.status) == "active"
        assert engine.replay(loan_id) == case
