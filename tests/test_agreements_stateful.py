"""Random sequences of payments, promises, plans, charges, holds, waivers and reversals.

After every step the case equals its replayed journal, the journal verifies,
and money is conserved: what is owed (due or not) less credit moves by exactly
the charges recorded, less payments, plus reversals, less waivers.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

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
)

AGENT = Actor("agent-7", frozenset({"agent"}))
START = datetime(2027, 1, 20, 2, tzinfo=UTC)
LIMITS = ApprovalLimits(limits={"agent": Money("200.00", "CNY")})
CASE = {
    "id": "LN-12000",
    "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
    "balance": {
        "currency": "CNY",
        "principal": "12000.00",
        "interest": "360.00",
        "not_due": "6000.00",
    },
    "due_date": "2026-12-31",
    "stage": "phone",
    "terms": {
        "penalty_rate": "0.0005",
        "late_fee": {"amount": "50.00", "currency": "CNY"},
        "penalty_cap": {"amount": "900.00", "currency": "CNY"},
    },
}


def cny(units: int) -> Money:
    return Money(Decimal(units).scaleb(-2), "CNY")


class Agreements(RuleBasedStateMachine):
    """One loan with terms, and everything a collections team and the debtor may do to it."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = SettableClock(START)
        self.engine = Engine(clock=self.clock)
        self.engine.approval_limits = LIMITS
        self.case_id = self.engine.open_case(CASE).id
        self.references: list[str] = []
        self.count = 0

    def _position(self) -> Decimal:
        balance = self.engine.case(self.case_id).balance
        return balance.outstanding.amount - balance.credit

    def _charged(self, length: int) -> Decimal:
        entries = self.engine.history(self.case_id)[length:]
        return sum(
            (
                Decimal(e.data["penalty"]) + Decimal(e.data["fee"])
                for e in entries
                if e.kind == "accrual"
            ),
            Decimal(0),
        )

    @rule(days=st.integers(1, 20))
    def wait(self, days: int) -> None:
        self.clock.advance(days=days)

    @rule(units=st.integers(1, 800_000))
    def pay(self, units: int) -> None:
        before, length = self._position(), len(self.engine.history(self.case_id))
        self.count += 1
        reference = f"PAY-{self.count}"
        self.engine.record_payment(self.case_id, cny(units), reference=reference)
        self.references.append(reference)
        assert self._position() == before + self._charged(length) - cny(units).amount

    @precondition(lambda self: bool(self.references))
    @rule(choice=st.integers(0, 50))
    def reverse(self, choice: int) -> None:
        reference = self.references.pop(choice % len(self.references))
        before = self._position()
        amount = next(
            Decimal(e.data["amount"])
            for e in self.engine.history(self.case_id)
            if e.kind == "payment" and e.data.get("reference") == reference
        )
        self.engine.reverse_payment(self.case_id, reference)
        assert self._position() == before + amount

    @rule(units=st.integers(1, 400_000), days=st.integers(0, 20), grace=st.integers(0, 5))
    def promise(self, units: int, days: int, grace: int) -> None:
        case = self.engine.case(self.case_id)
        due = case.local_date(self.clock.now()) + timedelta(days=days)
        try:
            self.engine.record_promise(self.case_id, cny(units), due, grace_days=grace)
        except InvalidInput:
            assert (
                self.engine.workflow.is_terminal(case.stage)
                or cny(units) > case.balance.outstanding
            )

    @rule()
    def review(self) -> None:
        self.engine.review_promises(self.case_id)
        self.engine.review_plan(self.case_id)

    @rule()
    def accrue(self) -> None:
        before, length = self._position(), len(self.engine.history(self.case_id))
        self.engine.accrue(self.case_id)
        assert self._position() == before + self._charged(length)

    @rule(count=st.integers(1, 6), grace=st.integers(0, 10), freeze=st.booleans())
    def plan(self, count: int, grace: int, freeze: bool) -> None:
        arrears = self.engine.arrears_at(self.case_id)
        if arrears.is_zero:
            return
        self.count += 1
        first = self.engine.case(self.case_id).local_date(self.clock.now()) + timedelta(days=3)
        plan = RepaymentPlan(
            id=f"PLAN-{self.count}",
            kind="minimum",
            instalments=instalment_schedule(arrears, first, count=count),
            grace_days=grace,
            freeze_interest=freeze,
        )
        with contextlib.suppress(TransitionDenied, InvalidInput):
            self.engine.start_plan(self.case_id, plan, actor=AGENT)

    @rule(units=st.integers(1, 30_000))
    def waive(self, units: int) -> None:
        before, length = self._position(), len(self.engine.history(self.case_id))
        try:
            self.engine.waive(self.case_id, cny(units), actor=AGENT)
        except (ApprovalDenied, InvalidInput):
            assert self._position() == before
            return
        assert self._position() == before + self._charged(length) - cny(units).amount

    @rule(kind=st.sampled_from(["breathing_space", "dispute"]), days=st.integers(1, 30))
    def hold(self, kind: str, days: int) -> None:
        until = self.clock.now() + timedelta(days=days)
        self.engine.add_hold(self.case_id, kind, "hold for review", until=until)

    @invariant()
    def replay_equals_live(self) -> None:
        assert self.engine.replay(self.case_id) == self.engine.case(self.case_id)
        assert self.engine.verify() == []

    @invariant()
    def nothing_negative(self) -> None:
        balance = self.engine.case(self.case_id).balance
        assert min(balance.principal, balance.interest, balance.fees, balance.penalty) >= 0
        assert balance.credit >= 0
        assert balance.not_due >= 0
        assert self.engine.case(self.case_id).due_date >= date(2026, 12, 31)


Agreements.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestAgreements = Agreements.TestCase
