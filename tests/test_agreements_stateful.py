"""Random sequences of payments, promises, plans, charges, holds, waivers and reversals.

After every step the case equals its replayed journal, the journal verifies,
and money is conserved: what is owed (due or not) less credit moves by exactly
the charges recorded, less payments, plus reversals, less waivers.  No state
reached is one without a way out: a case stands in ``promise`` or
``repayment_plan`` only with the open promise or active plan that stage runs
on, whatever trigger is fired at it bare, and once that agreement's dates pass
unpaid its review takes the case out of the stage.
"""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from arrears import (
    SYSTEM,
    Actor,
    ApprovalDenied,
    ApprovalLimits,
    Engine,
    InvalidInput,
    Money,
    Promise,
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

    @precondition(lambda self: self._running() is not None)
    @rule(whole=st.booleans())
    def pay_as_agreed(self, whole: bool) -> None:
        """Pay what the open promise or the active plan still asks (or its next part): as
        agreed, not a cent of the charges that ran on meanwhile."""
        running = self._running()
        assert running is not None
        asked = (
            running.remaining if whole else min(running.remaining, running.instalments[0].amount)
        )
        if asked.amount > 0:
            self.pay(int(asked.amount.scaleb(2)))

    def _running(self) -> Promise | RepaymentPlan | None:
        case = self.engine.case(self.case_id)
        if case.plan is not None and case.plan.is_active:
            return case.plan
        if case.promise is not None and case.promise.is_open:
            return case.promise
        return None

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

    @rule(
        trigger=st.sampled_from(
            ("promise", "offer_plan", "plan_completed", "promise_kept", "plan_broken")
        ),
        actor=st.sampled_from((AGENT, SYSTEM)),
    )
    def fire_bare(self, trigger: str, actor: Actor) -> None:
        """A trigger into or out of an agreement's stage, fired without its agreement."""
        with contextlib.suppress(TransitionDenied):
            self.engine.fire(self.case_id, trigger, actor=actor)

    @invariant()
    def agreement_stages_hold_their_agreement(self) -> None:
        case = self.engine.case(self.case_id)
        if case.stage == "promise":
            assert case.promise is not None
            assert case.promise.is_open, case.promise
        if case.stage == "repayment_plan":  # or completed, owing again after a reversal:
            # the next review takes it on (an_agreement_stage_is_left_once_its_dates_pass)
            assert case.plan is not None
            assert str(case.plan.status) != "broken", case.plan

    @invariant()
    def an_agreement_stage_is_left_once_its_dates_pass(self) -> None:
        """On a copy restored from the export, a year on and nothing paid: reviewed, the
        case has left ``promise`` and ``repayment_plan``."""
        if self.engine.case(self.case_id).stage not in ("promise", "repayment_plan"):
            return
        out = io.StringIO()
        self.engine.export_journal(out)
        later = SettableClock(self.clock.now() + timedelta(days=400))
        copy = Engine.from_journal(out.getvalue().splitlines(), clock=later)
        copy.review_promises(self.case_id)
        copy.review_plan(self.case_id)
        assert copy.case(self.case_id).stage not in ("promise", "repayment_plan")

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


def test_a_plan_paid_as_agreed_with_charges_left_leaves_its_stage() -> None:
    """The sequence the machine may take long to draw: a plan, two days of penalty
    interest, then exactly what the plan asks.  The plan is completed with CNY 12.00
    of charges left; the case goes back to the first contact stage rather than stay in
    ``repayment_plan`` with no plan running."""
    machine = Agreements()
    machine.plan(count=2, grace=0, freeze=False)
    machine.wait(days=2)
    machine.pay_as_agreed(whole=True)
    case = machine.engine.case(machine.case_id)
    assert case.plan is not None
    assert (case.stage, str(case.plan.status), case.arrears) == (
        "notified",
        "completed",
        Money("12.00", "CNY"),
    )
    machine.agreement_stages_hold_their_agreement()
    machine.replay_equals_live()


def test_a_bare_promise_or_plan_trigger_is_refused_and_journaled() -> None:
    """``promise`` and ``offer_plan`` fired with no promise or plan recorded: refused,
    each refusal journaled naming the guard, and the case stays in ``phone``."""
    machine = Agreements()
    for trigger, actor, guard in (
        ("promise", SYSTEM, "open_promise()"),
        ("offer_plan", AGENT, "active_plan()"),
    ):
        machine.fire_bare(trigger, actor)
        refusal = machine.engine.history(machine.case_id)[-1]
        assert (refusal.kind, refusal.data["trigger"]) == ("refusal", trigger)
        assert [failure["guard"] for failure in refusal.data["failures"]] == [guard]
    assert machine.engine.case(machine.case_id).stage == "phone"
    machine.replay_equals_live()


def test_a_completed_plan_owed_again_after_a_reversal_leaves_at_the_next_review() -> None:
    """A payment before the plan bounces after a later one completed it: the plan stands
    and the case goes back to ``repayment_plan`` owing again; the next review fires
    ``plan_completed``, to the first contact stage, and the journal verifies."""
    machine = Agreements()
    machine.pay(100_00)
    machine.plan(count=1, grace=0, freeze=True)
    machine.pay_as_agreed(whole=True)
    assert machine.engine.case(machine.case_id).stage == "pre_due"
    machine.reverse(0)
    case = machine.engine.case(machine.case_id)
    assert case.plan is not None
    assert (case.stage, str(case.plan.status)) == ("repayment_plan", "completed")
    machine.an_agreement_stage_is_left_once_its_dates_pass()
    machine.review()
    assert machine.engine.case(machine.case_id).stage == "notified"
    machine.replay_equals_live()
