"""Random sequences of triggers, holds, payments and time steps keep every case consistent.

A `RuleBasedStateMachine` drives one `Engine` with a settable clock and three
cases (CNY and JPY, debtors in Shanghai, Tokyo and New York, some with
instalments not yet due).  After every step it checks that each case is in a
stage of the workflow, never left a terminal stage, equals its own replayed
journal, has one version per journal entry and has kept every unit of money
paid; and that `Engine.verify` finds nothing.  At the end of each run the
whole journal is exported and read back into a new engine.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from arrears import (
    SYSTEM,
    Actor,
    Balance,
    Case,
    Channel,
    ContactPoint,
    CurrencyMismatch,
    Debtor,
    Engine,
    HoldKind,
    Money,
    Outcome,
    Party,
    SettableClock,
    TransitionDenied,
    UnknownTrigger,
    Workflow,
    minor_units,
)

WORKFLOW = Workflow()
TRIGGERS = WORKFLOW.triggers
#: Triggers that move a case further along; an active hold must refuse them.
HOLD_BLOCKED = frozenset({"escalate", "start_legal", "file_suit", "enforce"})
#: The triggers that take a case deeper into collection.
FORWARD = ("notify", "escalate", "start_legal", "file_suit", "record_judgment", "enforce")
#: A trigger no workflow defines: refused before anything is recorded.
UNKNOWN_TRIGGER = "fly_to_the_moon"
#: Every edge of the graph as (trigger, source, dest).
EDGES = frozenset(
    (spec.trigger, source, spec.dest)
    for spec in WORKFLOW.definition.transitions
    for source in spec.sources
)

START = datetime(2026, 1, 20, 1, 30, tzinfo=UTC)

ACTORS = {
    "system": SYSTEM,
    "agent": Actor("agent-7", frozenset({"agent"})),
    "supervisor": Actor("sup-3", frozenset({"supervisor"})),
    "legal_officer": Actor("legal-1", frozenset({"legal_officer"})),
    "legal_officer_2": Actor("legal-2", frozenset({"legal_officer"})),
    "risk_officer": Actor("risk-9", frozenset({"risk_officer"})),
}
PEOPLE = [actor for name, actor in ACTORS.items() if name != "system"]

REASONS = [None, "debtor asked for time", "债务人承诺月底前还款", "reviewed by the team"]
HOLD_REASONS = ["debt disputed in writing", "破产程序中止催收", "hardship review requested"]


def _cases() -> list[Case]:
    """Three overdue loans in two currencies and three time zones."""
    return [
        Case(
            id="LN-CNY-001",
            debtor=Debtor(id="D-1", timezone=ZoneInfo("Asia/Shanghai"), locale="zh-CN"),
            contacts=(
                ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000001"),
                ContactPoint(
                    id="work",
                    channel=Channel.CALL,
                    address="+862100000000",
                    party=Party.EMPLOYER,
                ),
            ),
            balance=Balance(
                currency="CNY",
                principal="12000.00",
                interest="350.50",
                fees="50",
                penalty="120.25",
                not_due="36000",
            ),
            due_date=date(2025, 12, 15),
        ),
        Case(
            id="LN-JPY-002",
            debtor=Debtor(id="D-2", timezone=ZoneInfo("Asia/Tokyo"), locale="ja-JP"),
            contacts=(ContactPoint(id="home", channel=Channel.CALL, address="+81300000000"),),
            balance=Balance(currency="JPY", principal="300000", interest="4500", penalty="1200"),
            due_date=date(2025, 10, 1),
        ),
        Case(
            id="LN-CNY-003",
            debtor=Debtor(id="D-3", timezone=ZoneInfo("America/New_York"), locale="en-US"),
            balance=Balance(currency="CNY", principal="800", fees="30", not_due="1600.40"),
            due_date=date(2026, 1, 19),
        ),
    ]


CASE_IDS = [case.id for case in _cases()]

case_ids = st.sampled_from(CASE_IDS)
actors = st.sampled_from(list(ACTORS.values()))
approvers = st.none() | st.sampled_from(PEOPLE)
reasons = st.sampled_from(REASONS)
#: From a minute to sixty days, with short and long steps both likely.
steps = st.one_of(
    st.integers(1, 24 * 60).map(lambda minutes: timedelta(minutes=minutes)),
    st.integers(1, 60).map(lambda days: timedelta(days=days)),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=60)),
)


def _count(name: str) -> None:
    """Count *name* in hypothesis' statistics (a no-op outside a hypothesis run)."""
    if currently_in_test_context():
        event(name)


def _money_from_minor(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-minor_units(currency)), currency)


def _to_minor(amount: Money) -> int:
    return int(amount.amount.scaleb(minor_units(amount.currency)))


class CollectionWorkflow(RuleBasedStateMachine):
    """One engine, three cases, and the rules a collections team could apply to them."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = SettableClock(START)
        self.engine = Engine(clock=self.clock)
        self.opening: dict[str, Balance] = {}
        self.paid: dict[str, Decimal] = {}
        self.terminal: dict[str, str] = {}
        for case in _cases():
            opened = self.engine.open_case(case)
            self.opening[case.id] = opened.balance
            self.paid[case.id] = Decimal(0)

    # -- helpers ------------------------------------------------------------------
    def _fire(
        self,
        case_id: str,
        trigger: str,
        actor: Actor,
        approver: Actor | None,
        reason: str | None,
    ) -> None:
        engine = self.engine
        before = engine.case(case_id)
        length = len(engine.history(case_id))
        held = bool(before.active_holds(self.clock.now()))
        denied: TransitionDenied | None = None
        try:
            result = engine.fire(case_id, trigger, actor=actor, approver=approver, reason=reason)
        except TransitionDenied as refused:
            denied = refused
        if denied is not None:
            _count(f"refused {trigger}")
            after = engine.case(case_id)
            history = engine.history(case_id)
            assert denied.failures, "a refusal names at least one failed guard"
            assert (denied.case_id, denied.trigger, denied.stage) == (
                case_id,
                trigger,
                before.stage,
            )
            assert after.stage == before.stage
            assert len(history) == length + 1
            refusal = history[-1]
            assert refusal.kind == "refusal"
            assert refusal.data["trigger"] == trigger
            assert refusal.data["actor"] == actor.id
            assert refusal.data["failures"] == [f.to_json() for f in denied.failures]
            guards = [failure.guard for failure in denied.failures]
            if held and trigger in HOLD_BLOCKED and before.stage in WORKFLOW.sources_of(trigger):
                assert "no_active_hold()" in guards
            if not held:
                assert "no_active_hold()" not in guards, "a released or ended hold still blocks"
            return
        _count(f"fired {trigger} -> {result.dest}")
        after = engine.case(case_id)
        history = engine.history(case_id)
        assert not (held and trigger in HOLD_BLOCKED), f"{trigger} succeeded during a hold"
        assert not WORKFLOW.is_terminal(before.stage), f"left terminal stage {before.stage}"
        assert result.allowed
        assert (trigger, before.stage, result.dest) in EDGES
        assert result.source == before.stage
        assert after.stage == result.dest
        assert len(history) == length + 1
        entry = history[-1]
        assert entry.kind == "transition"
        assert (entry.data["source"], entry.data["dest"]) == (before.stage, result.dest)
        if approver is not None:
            assert entry.data["approver"] == approver.id
        if WORKFLOW.is_terminal(result.dest):
            self.terminal[case_id] = result.dest

    def _active_holds(self) -> list[tuple[str, str]]:
        # Read the stored cases in place: this runs before every step, and a copy is not needed.
        now = self.clock.now()
        return [
            (case_id, hold.id)
            for case_id in CASE_IDS
            for hold in self.engine.store.get(case_id).active_holds(now)
        ]

    # -- rules --------------------------------------------------------------------
    @rule(
        case_id=case_ids,
        trigger=st.sampled_from([*TRIGGERS, UNKNOWN_TRIGGER]),
        actor=actors,
        approver=approvers,
        reason=reasons,
    )
    def fire_any(
        self,
        case_id: str,
        trigger: str,
        actor: Actor,
        approver: Actor | None,
        reason: str | None,
    ) -> None:
        if trigger != UNKNOWN_TRIGGER:
            self._fire(case_id, trigger, actor, approver, reason)
            return
        before = self.engine.case(case_id)
        with pytest.raises(UnknownTrigger):
            self.engine.fire(case_id, trigger, actor=actor, approver=approver, reason=reason)
        assert self.engine.case(case_id).model_dump() == before.model_dump()

    @rule(
        case_id=case_ids,
        choice=st.integers(0, 63),
        actor=actors,
        approver=approvers,
        reason=reasons,
    )
    def fire_available(
        self,
        case_id: str,
        choice: int,
        actor: Actor,
        approver: Actor | None,
        reason: str | None,
    ) -> None:
        available = WORKFLOW.available(self.engine.case(case_id).stage)
        if available:
            self._fire(case_id, available[choice % len(available)], actor, approver, reason)

    @rule(
        case_id=case_ids,
        choice=st.integers(0, 3),
        actor=st.sampled_from([ACTORS["legal_officer"], ACTORS["supervisor"]]),
        approver=st.sampled_from([ACTORS["legal_officer_2"], ACTORS["supervisor"]]),
    )
    def push_forward(self, case_id: str, choice: int, actor: Actor, approver: Actor) -> None:
        available = WORKFLOW.available(self.engine.case(case_id).stage)
        # Deepest first: a case that may go to court is tried there more often than not.
        forward = [trigger for trigger in reversed(FORWARD) if trigger in available]
        if forward:
            self._fire(case_id, forward[min(choice, len(forward) - 1)], actor, approver, None)

    @rule(
        case_id=case_ids,
        kind=st.sampled_from(list(HoldKind)),
        until=st.none() | st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(90)),
        reason=st.sampled_from(HOLD_REASONS),
        actor=actors,
    )
    def add_hold(
        self,
        case_id: str,
        kind: HoldKind,
        until: timedelta | None,
        reason: str,
        actor: Actor,
    ) -> None:
        now = self.clock.now()
        before = self.engine.case(case_id)
        ends = None if until is None else now + until
        hold = self.engine.add_hold(case_id, kind, reason, until=ends, actor=actor)
        after = self.engine.case(case_id)
        assert after.stage == before.stage
        assert hold in after.holds
        assert hold.active_at(now)
        assert hold.kind == kind
        assert hold.ends_at == ends
        assert self.engine.history(case_id)[-1].kind == "hold_added"

    @precondition(lambda self: bool(self._active_holds()))
    @rule(choice=st.integers(0, 63), actor=actors)
    def release_hold(self, choice: int, actor: Actor) -> None:
        held = self._active_holds()
        case_id, hold_id = held[choice % len(held)]
        before = self.engine.case(case_id)
        released = self.engine.release_hold(case_id, hold_id, actor=actor)
        after = self.engine.case(case_id)
        assert released.released_at == self.clock.now()
        assert after.stage == before.stage
        assert hold_id not in {hold.id for hold in after.active_holds(self.clock.now())}
        assert self.engine.history(case_id)[-1].kind == "hold_released"

    @rule(
        case_id=case_ids,
        # Partial payments are the common case and keep cases open for longer.
        mode=st.sampled_from(["partial", "partial", "partial", "exact", "overpay"]),
        units=st.integers(1, 10**7),
        wrong_currency_first=st.booleans(),
    )
    def record_payment(
        self, case_id: str, mode: str, units: int, wrong_currency_first: bool = False
    ) -> None:
        engine = self.engine
        before = engine.case(case_id)
        if wrong_currency_first:
            with pytest.raises(CurrencyMismatch):
                engine.record_payment(case_id, _money_from_minor(units, "USD"))
            assert engine.case(case_id).model_dump() == before.model_dump()
        owed = _to_minor(before.arrears)
        if mode == "partial":
            minor = 1 + units % (owed - 1) if owed > 1 else 1
        elif mode == "exact":
            minor = max(owed, 1)
        else:
            minor = owed + units
        amount = _money_from_minor(minor, before.currency)
        reference = f"PAY-{len(engine.history(case_id))}"  # one reference per payment
        result = engine.record_payment(case_id, amount, reference=reference)
        after = engine.case(case_id)
        self.paid[case_id] += amount.amount
        _count(f"payment {mode}")

        # Sent again (a host retrying after a timeout): nothing more is recorded.
        length = len(engine.history(case_id))
        again = engine.record_payment(case_id, amount, reference=reference)
        assert again == result
        assert len(engine.history(case_id)) == length
        assert engine.case(case_id).model_dump() == after.model_dump()

        parts = sum((part.amount for part in result.applied.values()), Decimal(0))
        assert parts + result.credit.amount == amount.amount
        assert after.balance.not_due == before.balance.not_due
        if after.balance.has_arrears or WORKFLOW.is_terminal(before.stage):
            assert result.cured is None
            assert after.stage == before.stage
        else:
            _count(f"cleared arrears from {before.stage} -> {after.stage}")
            assert after.stage in {"pre_due", "resolved"}
            assert (after.stage == "resolved") == after.balance.outstanding.is_zero
            if after.stage != before.stage:
                assert result.cured is not None
                assert result.cured.dest == after.stage
                assert ("cure", before.stage, after.stage) in EDGES
            if after.stage == "resolved":
                self.terminal[case_id] = "resolved"

    @rule(
        case_id=case_ids,
        channel=st.sampled_from(list(Channel)),
        outcome=st.sampled_from(list(Outcome)),
        contact=st.integers(0, 3),
        automated=st.booleans(),
        actor=actors,
        attempts=st.integers(1, 4),
    )
    def record_interaction(
        self,
        case_id: str,
        channel: Channel,
        outcome: Outcome,
        contact: int,
        automated: bool,
        actor: Actor,
        attempts: int = 1,
    ) -> None:
        before = self.engine.case(case_id)
        points = [point.id for point in before.contacts]
        chosen = points[contact] if contact < len(points) else None
        for _ in range(attempts):
            entry = self.engine.record_interaction(
                case_id, channel, outcome, contact=chosen, automated=automated, actor=actor
            )
            assert entry.kind == "interaction"
            assert entry.data.get("contact") == chosen
            assert entry.data["automated"] is automated
        assert self.engine.case(case_id).stage == before.stage

    @rule(case_id=case_ids, notice=st.sampled_from(["demand_letter", "final_notice"]))
    def record_notice(self, case_id: str, notice: str) -> None:
        before = self.engine.case(case_id)
        self.engine.record_notice(case_id, notice, actor=ACTORS["legal_officer"])
        after = self.engine.case(case_id)
        assert after.notices[notice] == self.clock.now()
        assert after.stage == before.stage

    @rule(step=steps)
    def advance_clock(self, step: timedelta) -> None:
        self.clock.advance(step)

    # -- invariants ---------------------------------------------------------------
    @invariant()
    def every_case_is_consistent(self) -> None:
        engine = self.engine
        for case_id in CASE_IDS:
            case = engine.case(case_id)
            history = engine.history(case_id)
            assert case.stage in WORKFLOW.stages
            if case_id in self.terminal:
                assert case.stage == self.terminal[case_id], "a terminal stage was left"
            assert case.version == len(history)
            replayed = engine.replay(case_id)
            assert replayed.model_dump() == case.model_dump()
            assert replayed.model_dump(mode="json") == case.model_dump(mode="json")
            opening = self.opening[case_id]
            cleared = opening.arrears.amount - case.balance.arrears.amount
            credited = case.balance.credit - opening.credit
            assert cleared + credited == self.paid[case_id], "money was lost or created"
            if not case.balance.has_arrears:
                assert case.stage == "pre_due" or WORKFLOW.is_terminal(case.stage)

    @invariant()
    def journal_verifies(self) -> None:
        assert self.engine.verify() == []

    def teardown(self) -> None:
        out = io.StringIO()
        written = self.engine.export_journal(out)
        assert written == sum(len(self.engine.history(case_id)) for case_id in CASE_IDS)
        lines = out.getvalue().splitlines(keepends=True)
        rebuilt = Engine.from_journal(lines)
        assert rebuilt.verify() == []
        for case_id in CASE_IDS:
            assert rebuilt.case(case_id).model_dump() == self.engine.case(case_id).model_dump()
            assert rebuilt.history(case_id) == self.engine.history(case_id)


CollectionWorkflow.TestCase.settings = settings(
    max_examples=75,
    stateful_step_count=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TestCollectionWorkflow(CollectionWorkflow.TestCase):  # type: ignore[misc, valid-type]
    """Random collection histories keep stages legal, the journal intact and money conserved."""


def _check(machine: CollectionWorkflow) -> None:
    machine.every_case_is_consistent()
    machine.journal_verifies()


class TestExplicitHistories:
    """Fixed histories through the paths random runs reach only now and then."""

    def test_hold_blocks_escalation_until_released(self) -> None:
        """A dispute refuses escalation; once released the case escalates from where it was."""
        machine = CollectionWorkflow()
        case_id, agent = "LN-CNY-001", ACTORS["agent"]
        machine._fire(case_id, "notify", SYSTEM, None, None)
        machine._fire(case_id, "escalate", agent, None, None)
        machine.add_hold(case_id, HoldKind.DISPUTE, None, HOLD_REASONS[0], SYSTEM)
        machine._fire(case_id, "escalate", agent, None, None)
        assert machine.engine.case(case_id).stage == "sms"
        assert machine.engine.history(case_id)[-1].kind == "refusal"
        _check(machine)
        machine.release_hold(0, ACTORS["supervisor"])
        machine._fire(case_id, "escalate", agent, None, None)
        assert machine.engine.case(case_id).stage == "phone"
        _check(machine)
        machine.record_payment(case_id, "exact", 1)
        assert machine.engine.case(case_id).stage == "pre_due"
        _check(machine)
        machine.teardown()

    def test_case_goes_to_enforcement_and_a_full_payment_resolves_it(self) -> None:
        """A JPY case reaches enforcement with four eyes, then paying everything resolves it."""
        machine = CollectionWorkflow()
        case_id = "LN-JPY-002"
        officer, second = ACTORS["legal_officer"], ACTORS["legal_officer_2"]
        supervisor = ACTORS["supervisor"]

        def stage() -> str:
            return machine.engine.case(case_id).stage

        machine._fire(case_id, "notify", SYSTEM, None, None)
        machine.record_interaction(
            case_id, Channel.CALL, Outcome.NO_ANSWER, 0, False, ACTORS["agent"], attempts=3
        )
        machine._fire(case_id, "start_legal", officer, None, None)
        assert stage() == "legal.demand_letter"
        machine.record_notice(case_id, "demand_letter")
        machine.advance_clock(timedelta(days=29))
        machine._fire(case_id, "file_suit", officer, second, REASONS[2])
        assert stage() == "legal.demand_letter"
        machine.advance_clock(timedelta(days=1))
        machine._fire(case_id, "file_suit", officer, officer, None)
        assert stage() == "legal.demand_letter"
        machine._fire(case_id, "file_suit", officer, second, REASONS[2])
        assert stage() == "legal.litigation"
        machine._fire(case_id, "record_judgment", officer, None, None)
        assert stage() == "legal.judgment"
        _check(machine)
        machine.add_hold(case_id, HoldKind.BANKRUPTCY, timedelta(days=10), HOLD_REASONS[1], officer)
        machine._fire(case_id, "enforce", officer, supervisor, None)
        assert stage() == "legal.judgment"
        machine.advance_clock(timedelta(days=10))
        machine._fire(case_id, "enforce", officer, supervisor, None)
        assert stage() == "legal.enforcement"
        _check(machine)
        machine.record_payment(case_id, "partial", 1)
        assert stage() == "legal.enforcement"
        machine.record_payment(case_id, "overpay", 500)
        assert stage() == "resolved"
        assert machine.engine.case(case_id).balance.credit == Decimal(500)
        _check(machine)
        machine._fire(case_id, "promise", officer, None, None)
        machine.record_payment(case_id, "exact", 1)
        assert stage() == "resolved"
        _check(machine)
        machine.teardown()

    def test_clearing_arrears_with_instalments_still_to_come_returns_to_pre_due(self) -> None:
        """A case with instalments still to come is cured to pre_due and cannot be notified."""
        machine = CollectionWorkflow()
        case_id = "LN-CNY-003"
        machine.advance_clock(timedelta(days=2))
        machine._fire(case_id, "notify", SYSTEM, None, None)
        machine._fire(case_id, "promise", ACTORS["agent"], None, None)
        machine.record_payment(case_id, "overpay", 1)
        case = machine.engine.case(case_id)
        assert case.stage == "pre_due"
        assert case.balance.credit == Decimal("0.01")
        machine._fire(case_id, "notify", SYSTEM, None, None)
        assert machine.engine.case(case_id).stage == "pre_due"
        _check(machine)
        machine.teardown()
