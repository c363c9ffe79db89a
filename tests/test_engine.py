"""The engine: opening cases, firing triggers, roles, holds, payments, bad input and logs."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from arrears import (
    Actor,
    ArrearsError,
    Case,
    CurrencyMismatch,
    DuplicateCase,
    Engine,
    InvalidInput,
    JournalCorrupted,
    Money,
    SettableClock,
    TransitionDenied,
    UnknownCase,
    UnknownTrigger,
    Workflow,
    standard_definition,
)

MakeCase = Callable[..., Case]

AGENT = Actor("agent-7", frozenset({"agent"}))
OFFICER = Actor("legal-1", frozenset({"legal_officer"}))
OTHER_OFFICER = Actor("legal-2", frozenset({"legal_officer"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))
RISK = Actor("risk-9", frozenset({"risk_officer"}))

#: 1 December 2026, 09:00 in Shanghai: 91 days past the 2026-09-01 due date.
DAY_91 = datetime(2026, 12, 1, 1, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


@pytest.fixture
def case_id(engine: Engine, make_case: MakeCase) -> str:
    """A case opened in the engine at the clock's start (30 days past due), still in pre_due."""
    return engine.open_case(make_case()).id


@pytest.fixture
def notified(engine: Engine, case_id: str) -> str:
    """The opened case, notified."""
    engine.fire(case_id, "notify")
    return case_id


def ready_for_legal(engine: Engine, clock: SettableClock, case_id: str) -> None:
    """Three contact attempts, then move the clock to 91 days past due."""
    for _ in range(3):
        engine.record_interaction(case_id, "call", "no_answer", contact="p1")
    clock.set(DAY_91)


def to_litigation(engine: Engine, clock: SettableClock, case_id: str) -> None:
    """Take a notified case through the demand letter into litigation."""
    ready_for_legal(engine, clock, case_id)
    engine.fire(case_id, "start_legal", actor=OFFICER)
    engine.record_notice(case_id, "demand_letter")
    clock.advance(days=30)
    engine.fire(case_id, "file_suit", actor=OFFICER, approver=SUPERVISOR)


def contains(mapping: Mapping[str, Any], **expected: Any) -> bool:
    """True when *mapping* has every expected key with the expected value."""
    return {key: mapping.get(key, ...) for key in expected} == expected


def kinds(engine: Engine, case_id: str) -> list[str]:
    return [entry.kind for entry in engine.history(case_id)]


def guards_of(err: TransitionDenied) -> list[str]:
    return [failure.guard for failure in err.failures]


class TestOpen:
    def test_open_from_a_mapping(self, engine: Engine, clock: SettableClock) -> None:
        """A mapping is validated into a case, stamped with the clock and journaled as opened."""
        case = engine.open_case(
            {
                "id": "C-9",
                "debtor": {"id": "D-9", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "500"},
                "due_date": "2026-09-01",
            }
        )
        assert case.stage == "pre_due"
        assert case.opened_at == clock.now()
        assert case.version == 1
        assert kinds(engine, "C-9") == ["opened"]
        assert engine.history("C-9")[0].data["workflow"] == ["standard", "1"]

    def test_open_from_a_case_does_not_alias_it(self, engine: Engine, make_case: MakeCase) -> None:
        """Firing on an opened case never changes the caller's Case object."""
        mine = make_case()
        engine.open_case(mine)
        engine.fire(mine.id, "notify")
        engine.record_notice(mine.id, "reminder")
        engine.add_hold(mine.id, "dispute", "amount disputed")
        engine.record_payment(mine.id, cny("100.00"))
        assert mine == make_case()
        assert (mine.stage, mine.version, mine.notices, mine.holds) == ("pre_due", 0, {}, ())
        assert engine.case(mine.id).stage == "notified"

    def test_case_returns_a_copy(self, engine: Engine, case_id: str) -> None:
        """Changing what case() returns does not change the engine's case."""
        copy = engine.case(case_id)
        copy.stage = "legal.enforcement"
        copy.notices["demand_letter"] = DAY_91
        assert engine.case(case_id).stage == "pre_due"
        assert engine.case(case_id).notices == {}

    def test_duplicate(self, engine: Engine, make_case: MakeCase, case_id: str) -> None:
        """Opening a second case with the same id raises DuplicateCase and changes nothing."""
        before = engine.case(case_id)
        with pytest.raises(DuplicateCase) as info:
            engine.open_case(make_case(stage="phone"))
        assert info.value.case_id == case_id
        assert str(info.value) == "case_id: a case 'C-1' is already open"
        assert engine.case(case_id) == before
        assert len(engine.history(case_id)) == 1

    @pytest.mark.parametrize(
        "call",
        [
            lambda e: e.case("C-404"),
            lambda e: e.history("C-404"),
            lambda e: e.fire("C-404", "notify"),
            lambda e: e.add_hold("C-404", "dispute", "r"),
            lambda e: e.record_payment("C-404", cny("1")),
        ],
        ids=["case", "history", "fire", "add_hold", "record_payment"],
    )
    def test_unknown_case(self, engine: Engine, call: Callable[[Engine], object]) -> None:
        """Every call about a case that was never opened raises UnknownCase naming the id."""
        with pytest.raises(UnknownCase) as info:
            call(engine)
        assert info.value.case_id == "C-404"
        assert str(info.value) == "case_id: no case 'C-404'"
        assert isinstance(info.value, KeyError)

    @pytest.mark.parametrize(
        ("overrides", "field", "value"),
        [
            ({"stage": "resolved"}, "stage", "'resolved'"),
            ({"stage": "orbit"}, "stage", "'orbit'"),
            ({"version": 3}, "version", "3"),
        ],
    )
    def test_refused_openings(
        self,
        engine: Engine,
        make_case: MakeCase,
        overrides: dict[str, Any],
        field: str,
        value: str,
    ) -> None:
        """A terminal or unknown stage, or a case with history, is refused and nothing stored."""
        with pytest.raises(InvalidInput) as info:
            engine.open_case(make_case(**overrides))
        assert info.value.field == field
        assert f"{field}: got {value}" in str(info.value)
        assert len(engine.store) == 0

    def test_stage_must_exist_in_the_workflow(
        self, clock: SettableClock, make_case: MakeCase
    ) -> None:
        """A legal stage is refused by an engine whose workflow has no legal stages."""
        engine = Engine(Workflow(standard_definition(skip=["legal"])), clock=clock)
        with pytest.raises(InvalidInput, match=r"stage: got 'legal\.litigation'"):
            engine.open_case(make_case(stage="legal.litigation"))

    def test_invalid_mapping(self, engine: Engine, make_case: MakeCase) -> None:
        """A mapping that is not a valid case: InvalidInput naming the field, nothing stored."""
        with pytest.raises(InvalidInput) as info:
            engine.open_case({"id": "C-1", "due_date": "2026-09-01"})
        assert info.value.field == "debtor"
        assert isinstance(info.value.__cause__, ValidationError)
        assert len(engine.store) == 0

    def test_invalid_field_names_field_and_value(self, engine: Engine, make_case: MakeCase) -> None:
        """A bad due date is refused naming the field and the date given."""
        record = make_case().model_dump(mode="json")
        record["due_date"] = "2026-02-30"
        with pytest.raises(InvalidInput) as info:
            engine.open_case(record)
        assert (info.value.field, info.value.value) == ("due_date", "2026-02-30")
        assert len(engine.store) == 0

    def test_naive_open_time(self, engine: Engine, make_case: MakeCase) -> None:
        """A naive opening time is refused naming 'at'."""
        with pytest.raises(InvalidInput) as info:
            engine.open_case(make_case(), at=datetime(2026, 10, 1, 9))
        assert info.value.field == "at"
        assert len(engine.store) == 0


#: The calls that change Python's garbage collector.
COLLECTOR_CALLS = ("collect", "disable", "enable", "freeze", "unfreeze", "set_threshold")


@pytest.fixture
def collector_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls made to change the collector from now on (each still made)."""
    import gc

    calls: list[str] = []
    for name in COLLECTOR_CALLS:
        original = getattr(gc, name)

        def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(gc, name, counted)
    return calls


class TestOpenCasesAndTheCollector:
    """The library leaves Python's garbage collector as the host runs it."""

    @staticmethod
    def batch(make_case: MakeCase, size: int) -> list[Case]:
        return [make_case(id=f"L-{number:05d}") for number in range(size)]

    def test_a_running_collector_keeps_running_with_its_thresholds(
        self, engine: Engine, make_case: MakeCase, collector_calls: list[str]
    ) -> None:
        import gc

        cases = self.batch(make_case, 1_200)
        assert gc.isenabled()
        thresholds, frozen = gc.get_threshold(), gc.get_freeze_count()
        passes: list[int] = []

        def seen(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                passes.append(info["generation"])

        collector_calls.clear()
        gc.callbacks.append(seen)
        try:
            assert engine.open_cases(cases) == 1_200
        finally:
            gc.callbacks.remove(seen)
        assert collector_calls == []  # no collection, pause, freeze or new threshold
        assert gc.isenabled()
        assert gc.get_threshold() == thresholds
        assert gc.get_freeze_count() == frozen
        assert passes  # the host's collector made its own passes while the batch ran

    def test_a_host_that_turned_the_collector_off_keeps_it_off(
        self, engine: Engine, make_case: MakeCase, collector_calls: list[str]
    ) -> None:
        import gc
        import weakref

        class Knot:
            def __init__(self) -> None:
                self.me = self

        cases = self.batch(make_case, 1_200)
        gc.disable()
        try:
            knot = Knot()
            alive = weakref.ref(knot)
            del knot  # garbage now, but only the collector frees a cycle
            collector_calls.clear()
            assert engine.open_cases(cases) == 1_200
            assert collector_calls == []
            assert not gc.isenabled()
            assert alive() is not None  # nothing was collected behind the host's back
        finally:
            gc.enable()
        gc.collect()
        assert alive() is None

    def test_a_hosts_frozen_objects_stay_frozen(
        self, engine: Engine, make_case: MakeCase, collector_calls: list[str]
    ) -> None:
        import gc

        cases = self.batch(make_case, 1_200)
        gc.freeze()  # as a server does before it forks
        try:
            frozen = gc.get_freeze_count()
            collector_calls.clear()
            assert engine.open_cases(cases) == 1_200
            assert gc.get_freeze_count() == frozen
            assert collector_calls == []
        finally:
            gc.unfreeze()


class TestFire:
    def test_transition_is_journaled(
        self, engine: Engine, clock: SettableClock, case_id: str
    ) -> None:
        """An allowed trigger moves the stage and records who, when and under which workflow."""
        result = engine.fire(case_id, "notify", reason="first reminder run")
        assert (result.trigger, result.source, result.dest, result.allowed) == (
            "notify",
            "pre_due",
            "notified",
            True,
        )
        entry = engine.history(case_id)[-1]
        assert entry.kind == "transition"
        assert entry.at == clock.now()
        assert contains(
            entry.data,
            trigger="notify",
            source="pre_due",
            dest="notified",
            actor="system",
            workflow=["standard", "1"],
            reason="first reminder run",
        )
        assert engine.case(case_id).stage == "notified"
        assert engine.case(case_id).version == 2

    def test_approver_is_journaled(self, engine: Engine, notified: str) -> None:
        """A four-eyes trigger records both the actor and the approver."""
        engine.fire(notified, "write_off", actor=SUPERVISOR, approver=RISK)
        data = engine.history(notified)[-1].data
        assert (data["actor"], data["approver"], data["dest"]) == ("sup-3", "risk-9", "written_off")
        assert engine.case(notified).stage == "written_off"

    def test_refusal_lists_every_failed_guard(self, engine: Engine, notified: str) -> None:
        """start_legal by the system at 30 dpd is refused with all four failed guards."""
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "start_legal")
        err = info.value
        assert guards_of(err) == [
            "by_person",
            "dpd_at_least(90)",
            "attempts_at_least(3)",
            "approved_by(legal_officer)",
        ]
        assert (err.case_id, err.trigger, err.stage) == ("C-1", "start_legal", "notified")
        assert err.failures[1].values == {"dpd": 30, "minimum": 90}
        assert "dpd_at_least(90) failed: dpd is 30, needs at least 90" in str(err)
        assert "attempts_at_least(3) failed: 0 contact attempts recorded" in str(err)

    def test_refusal_is_journaled_before_raising(self, engine: Engine, notified: str) -> None:
        """The refusal is the case's last entry, with every failure, and the stage is kept."""
        with pytest.raises(TransitionDenied):
            engine.fire(notified, "start_legal", actor=AGENT)
        entry = engine.history(notified)[-1]
        assert entry.kind == "refusal"
        assert entry.data["actor"] == "agent-7"
        assert entry.data["source"] == entry.data["dest"] == "notified"
        assert [f["guard"] for f in entry.data["failures"]] == [
            "dpd_at_least(90)",
            "attempts_at_least(3)",
            "approved_by(legal_officer)",
        ]
        assert engine.case(notified).stage == "notified"
        assert engine.replay(notified) == engine.case(notified)

    def test_trigger_from_the_wrong_stage_is_refused(self, engine: Engine, case_id: str) -> None:
        """escalate from pre_due is refused by from_stage, and that refusal is journaled."""
        with pytest.raises(TransitionDenied) as info:
            engine.fire(case_id, "escalate")
        assert guards_of(info.value) == ["from_stage"]
        assert kinds(engine, case_id) == ["opened", "refusal"]

    def test_terminal_case_cannot_move(self, engine: Engine, notified: str) -> None:
        """A closed case refuses every trigger."""
        engine.fire(notified, "close", actor=SUPERVISOR)
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "notify")
        assert guards_of(info.value) == ["from_stage"]
        assert engine.case(notified).stage == "closed"

    def test_time_defaults_to_the_clock(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """Without at, the clock's now is used for guards and the entry."""
        clock.set(datetime(2026, 9, 29, 1, tzinfo=UTC))  # back before the last entry
        with pytest.raises(InvalidInput, match="at: got '2026-09-29T01:00:00"):
            engine.fire(notified, "escalate")

    def test_explicit_time_is_judged_and_recorded(self, engine: Engine, notified: str) -> None:
        """An explicit at is used for the guards and stamped on the entry."""
        at = DAY_91 + timedelta(hours=2)
        engine.fire(notified, "escalate", at=at)
        assert engine.history(notified)[-1].at == at


class TestRoles:
    def test_agent_cannot_start_legal(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """With enough dpd and attempts, an agent is still refused: only the role fails."""
        ready_for_legal(engine, clock, notified)
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "start_legal", actor=AGENT)
        assert guards_of(info.value) == ["approved_by(legal_officer)"]
        assert "actor 'agent-7' has roles ['agent']" in str(info.value)
        assert engine.case(notified).stage == "notified"

    def test_legal_officer_can_start_legal(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """A legal officer at 91 dpd with three attempts sends the case to the demand letter."""
        ready_for_legal(engine, clock, notified)
        result = engine.fire(notified, "start_legal", actor=OFFICER)
        assert result.dest == "legal.demand_letter"
        assert engine.history(notified)[-1].data["actor"] == "legal-1"

    def test_file_suit_waits_for_the_notice_period(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """Filing suit needs a demand letter sent 30 days before."""
        ready_for_legal(engine, clock, notified)
        engine.fire(notified, "start_legal", actor=OFFICER)
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "file_suit", actor=OFFICER, approver=SUPERVISOR)
        assert guards_of(info.value) == ["notice_elapsed('demand_letter', 30)"]
        assert info.value.failures[0].values == {"notice": "demand_letter", "sent_at": None}
        engine.record_notice(notified, "demand_letter")
        clock.advance(days=29)
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "file_suit", actor=OFFICER, approver=SUPERVISOR)
        assert info.value.failures[0].values["elapsed_days"] == 29
        clock.advance(days=1)
        assert engine.fire(notified, "file_suit", actor=OFFICER, approver=SUPERVISOR).allowed

    def test_file_suit_needs_a_second_person(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """The actor cannot approve their own suit; no approver or one without a role fails too."""
        ready_for_legal(engine, clock, notified)
        engine.fire(notified, "start_legal", actor=OFFICER)
        engine.record_notice(notified, "demand_letter")
        clock.advance(days=30)
        for approver, reason in [
            (None, "none given"),
            (OFFICER, "is the actor"),
            (AGENT, "approver 'agent-7' has roles ['agent']"),
        ]:
            with pytest.raises(TransitionDenied) as info:
                engine.fire(notified, "file_suit", actor=OFFICER, approver=approver)
            assert guards_of(info.value) == ["second_approver(legal_officer, supervisor)"]
            assert reason in info.value.failures[0].reason
        result = engine.fire(notified, "file_suit", actor=OFFICER, approver=OTHER_OFFICER)
        assert result.dest == "legal.litigation"
        assert engine.history(notified)[-1].data["approver"] == "legal-2"


class TestHolds:
    def test_hold_blocks_escalation_until_released(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """While a dispute is open escalate is refused; after release the same escalate works."""
        hold = engine.add_hold(notified, "dispute", "debt disputed in writing")
        assert hold.kind == "dispute"
        assert engine.case(notified).stage == "notified"
        clock.advance(hours=1)
        with pytest.raises(TransitionDenied) as info:
            engine.fire(notified, "escalate")
        assert guards_of(info.value) == ["no_active_hold()"]
        assert info.value.failures[0].values == {"holds": [hold.id], "kinds": ["dispute"]}
        assert engine.case(notified).stage == "notified"
        released = engine.release_hold(notified, hold.id)
        assert released.released_at == clock.now()
        assert engine.fire(notified, "escalate").dest == "sms"
        assert kinds(engine, notified) == [
            "opened",
            "transition",
            "hold_added",
            "refusal",
            "hold_released",
            "transition",
        ]
        assert engine.replay(notified) == engine.case(notified)

    def test_hold_with_an_end_lapses_by_itself(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """A 60-day breathing space blocks escalation until its end, then the case resumes."""
        engine.add_hold(
            notified, "breathing_space", "breathing space", until=clock.now() + timedelta(days=60)
        )
        clock.advance(days=59)
        with pytest.raises(TransitionDenied):
            engine.fire(notified, "escalate")
        assert engine.case(notified).stage == "notified"
        clock.advance(days=1)
        assert engine.fire(notified, "escalate").dest == "sms"

    def test_hold_is_recorded_beside_the_stage(self, engine: Engine, notified: str) -> None:
        """Adding and releasing a hold never changes the stage; the hold stays in the history."""
        hold = engine.add_hold(notified, "hardship", "hardship review requested")
        engine.release_hold(notified, hold.id)
        case = engine.case(notified)
        assert case.stage == "notified"
        assert [h.id for h in case.holds] == [hold.id]
        assert case.active_holds(datetime(2030, 1, 1, tzinfo=UTC)) == ()

    def test_hold_does_not_block_a_cure(self, engine: Engine, notified: str) -> None:
        """A payment that clears the arrears cures the case even during a dispute."""
        engine.add_hold(notified, "dispute", "amount disputed")
        result = engine.record_payment(notified, cny("1070.00"))
        assert result.cured is not None
        assert engine.case(notified).stage == "resolved"


class TestPayments:
    def test_clearing_payment_cures_from_litigation(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """Paying everything overdue in litigation cures the case to resolved."""
        to_litigation(engine, clock, notified)
        assert engine.case(notified).stage == "legal.litigation"
        result = engine.record_payment(notified, cny("1070.00"), reference="TX-77")
        assert result.cured is not None
        assert (result.cured.source, result.cured.dest) == ("legal.litigation", "resolved")
        assert result.credit == cny("0")
        assert engine.case(notified).stage == "resolved"
        assert kinds(engine, notified)[-2:] == ["payment", "transition"]
        assert engine.history(notified)[-2].data["reference"] == "TX-77"
        assert engine.history(notified)[-1].data["trigger"] == "cure"

    def test_clearing_arrears_with_instalments_to_come_returns_to_pre_due(
        self, engine: Engine, make_case: MakeCase, clock: SettableClock
    ) -> None:
        """When future instalments remain, a cure goes back to pre_due, not resolved."""
        balance = {
            "currency": "CNY",
            "principal": "1000.00",
            "interest": "50.00",
            "penalty": "20.00",
            "not_due": "5000.00",
        }
        case_id = engine.open_case(make_case(balance=balance)).id
        engine.fire(case_id, "notify")
        to_litigation(engine, clock, case_id)
        result = engine.record_payment(case_id, cny("1070.00"))
        assert result.cured is not None
        assert result.cured.dest == "pre_due"
        case = engine.case(case_id)
        assert case.stage == "pre_due"
        assert case.balance.outstanding == cny("5000.00")
        assert case.days_past_due(clock.now()) == 0

    def test_partial_payment_does_not_cure(self, engine: Engine, notified: str) -> None:
        """A payment short of the arrears is allocated but the stage stays."""
        result = engine.record_payment(notified, cny("1000.00"))
        assert result.cured is None
        assert result.applied == {
            "penalty": cny("20.00"),
            "fees": cny("0"),
            "interest": cny("50.00"),
            "principal": cny("930.00"),
        }
        case = engine.case(notified)
        assert case.stage == "notified"
        assert case.balance.principal == Decimal("70.00")
        assert case.arrears == cny("70.00")

    def test_overpayment_becomes_credit(self, engine: Engine, notified: str) -> None:
        """Paying more than is owed keeps the rest as credit on the case."""
        result = engine.record_payment(notified, cny("1100.00"))
        assert result.credit == cny("30.00")
        assert engine.case(notified).balance.credit == Decimal("30.00")
        assert engine.case(notified).stage == "resolved"

    def test_payment_in_pre_due_with_nothing_else_owed_resolves(
        self, engine: Engine, case_id: str
    ) -> None:
        """Paying everything while still in pre_due resolves the case."""
        assert engine.record_payment(case_id, cny("1070.00")).cured is not None
        assert engine.case(case_id).stage == "resolved"

    def test_wrong_currency_changes_nothing(self, engine: Engine, notified: str) -> None:
        """A payment in USD raises CurrencyMismatch and leaves case and history untouched."""
        before, length = engine.case(notified), len(engine.history(notified))
        with pytest.raises(CurrencyMismatch) as info:
            engine.record_payment(notified, Money("1070.00", "USD"))
        assert info.value.field == "amount"
        assert (info.value.left, info.value.right) == ("CNY", "USD")
        assert "amount: got 'USD'" in str(info.value)
        assert engine.case(notified) == before
        assert len(engine.history(notified)) == length

    def test_replay_after_payments(self, engine: Engine, notified: str) -> None:
        """Replaying the journal after payments rebuilds the same balance."""
        engine.record_payment(notified, cny("15.00"))
        engine.record_payment(notified, cny("100.00"))
        assert engine.replay(notified) == engine.case(notified)
        assert engine.case(notified).balance.interest == Decimal("0.00")

    def test_replay_refuses_a_chain_cut_short(self, engine: Engine, notified: str) -> None:
        """Replay checks the chain against the store's head: a lost newest entry is not hidden."""
        engine.record_payment(notified, cny("15.00"))
        engine.store._chains[notified].pop()
        with pytest.raises(JournalCorrupted) as info:
            engine.replay(notified)
        assert [p.problem for p in info.value.problems] == ["truncated"]


@dataclass(frozen=True)
class BadInput:
    """A call with one bad argument, and what its error must name."""

    call: Callable[[Engine, str], object]
    error: type[Exception]
    field: str
    value: str


EARLY = datetime(2026, 9, 30, 1, tzinfo=UTC)
NAIVE = datetime(2026, 10, 1, 9)

BAD_INPUTS = {
    "fire-naive-at": BadInput(
        lambda e, c: e.fire(c, "escalate", at=NAIVE), InvalidInput, "at", "2026-10-01T09:00:00"
    ),
    "fire-at-before-last-entry": BadInput(
        lambda e, c: e.fire(c, "escalate", at=EARLY), InvalidInput, "at", "2026-09-30T01:00:00"
    ),
    "fire-unknown-trigger": BadInput(
        lambda e, c: e.fire(c, "fly"), UnknownTrigger, "trigger", "'fly'"
    ),
    "fire-actor-not-an-actor": BadInput(
        lambda e, c: e.fire(c, "escalate", actor="agent-7"), InvalidInput, "actor", "'agent-7'"
    ),
    "fire-approver-not-an-actor": BadInput(
        lambda e, c: e.fire(c, "escalate", approver="sup-3"), InvalidInput, "approver", "'sup-3'"
    ),
    "hold-unknown-kind": BadInput(
        lambda e, c: e.add_hold(c, "vacation", "r"), InvalidInput, "kind", "'vacation'"
    ),
    "hold-empty-reason": BadInput(
        lambda e, c: e.add_hold(c, "dispute", ""), InvalidInput, "reason", "got ''"
    ),
    "hold-naive-until": BadInput(
        lambda e, c: e.add_hold(c, "dispute", "r", until=NAIVE), InvalidInput, "until", "09:00"
    ),
    "hold-until-before-start": BadInput(
        lambda e, c: e.add_hold(c, "dispute", "r", until=EARLY),
        InvalidInput,
        "until",
        "2026-09-30T01:00:00",
    ),
    "hold-naive-at": BadInput(
        lambda e, c: e.add_hold(c, "dispute", "r", at=NAIVE), InvalidInput, "at", "09:00"
    ),
    "release-unknown-hold": BadInput(
        lambda e, c: e.release_hold(c, "dispute-99"), InvalidInput, "hold_id", "'dispute-99'"
    ),
    "interaction-unknown-channel": BadInput(
        lambda e, c: e.record_interaction(c, "pigeon", "delivered"),
        InvalidInput,
        "channel",
        "'pigeon'",
    ),
    "interaction-unknown-outcome": BadInput(
        lambda e, c: e.record_interaction(c, "call", "maybe"), InvalidInput, "outcome", "'maybe'"
    ),
    # What was given may be a phone number, so the message is only required to list
    # the case's contact ids (see the masking test below).
    "interaction-unknown-contact": BadInput(
        lambda e, c: e.record_interaction(c, "call", "busy", contact="p9"),
        InvalidInput,
        "contact",
        "['p1', 'p2']",
    ),
    "interaction-at-before-last-entry": BadInput(
        lambda e, c: e.record_interaction(c, "call", "busy", at=EARLY),
        InvalidInput,
        "at",
        "2026-09-30",
    ),
    "notice-bad-kind": BadInput(
        lambda e, c: e.record_notice(c, "demand letter"), InvalidInput, "notice", "'demand letter'"
    ),
    "notice-naive-at": BadInput(
        lambda e, c: e.record_notice(c, "demand_letter", at=NAIVE), InvalidInput, "at", "09:00"
    ),
    "payment-not-money": BadInput(
        lambda e, c: e.record_payment(c, "1070.00"), InvalidInput, "amount", "'1070.00'"
    ),
    "payment-float": BadInput(
        lambda e, c: e.record_payment(c, 1070.0), InvalidInput, "amount", "1070.0"
    ),
    "payment-wrong-currency": BadInput(
        lambda e, c: e.record_payment(c, Money("5", "JPY")), CurrencyMismatch, "amount", "'JPY'"
    ),
    "payment-zero": BadInput(
        lambda e, c: e.record_payment(c, cny("0")), InvalidInput, "payment", "0.00 CNY"
    ),
    "payment-negative": BadInput(
        lambda e, c: e.record_payment(c, cny("-5")), InvalidInput, "payment", "-5.00 CNY"
    ),
    "payment-order-missing-components": BadInput(
        lambda e, c: e.record_payment(c, cny("5"), order=("principal",)),
        InvalidInput,
        "order",
        "['principal']",
    ),
    "payment-at-before-last-entry": BadInput(
        lambda e, c: e.record_payment(c, cny("5"), at=EARLY), InvalidInput, "at", "2026-09-30"
    ),
}


class TestBadInputChangesNothing:
    @pytest.mark.parametrize("bad", list(BAD_INPUTS.values()), ids=list(BAD_INPUTS))
    def test_error_names_field_and_value_and_case_is_unchanged(
        self, engine: Engine, notified: str, bad: BadInput
    ) -> None:
        """Each bad argument raises an error naming the field and value; nothing is recorded."""
        hold = engine.add_hold(notified, "hardship", "hardship review requested")
        engine.release_hold(notified, hold.id)
        before, length = engine.case(notified), len(engine.history(notified))
        with pytest.raises(bad.error) as info:
            bad.call(engine, notified)
        text = str(info.value)
        assert bad.field in text
        assert bad.value in text
        if isinstance(info.value, InvalidInput):
            assert info.value.field == bad.field
        if isinstance(info.value, ArrearsError):
            assert f"{bad.field}: got " in text
        assert engine.case(notified) == before
        assert len(engine.history(notified)) == length
        assert engine.verify() == []
        assert engine.replay(notified) == before

    def test_released_hold_cannot_be_released_again(self, engine: Engine, notified: str) -> None:
        """Releasing a hold that is no longer active is refused and recorded nowhere."""
        hold = engine.add_hold(notified, "dispute", "amount disputed")
        engine.release_hold(notified, hold.id)
        before, length = engine.case(notified), len(engine.history(notified))
        with pytest.raises(InvalidInput, match=f"hold_id: got '{hold.id}'"):
            engine.release_hold(notified, hold.id)
        assert engine.case(notified) == before
        assert len(engine.history(notified)) == length

    def test_reason_that_cannot_be_journaled(self, engine: Engine, notified: str) -> None:
        """A reason that is not text is refused naming 'reason', and the stage does not move."""
        before, length = engine.case(notified), len(engine.history(notified))
        with pytest.raises(InvalidInput) as info:
            engine.fire(notified, "escalate", reason=Decimal("1"))  # type: ignore[arg-type]
        assert info.value.field == "reason"
        assert engine.case(notified) == before
        assert len(engine.history(notified)) == length


class TestJournalThroughTheEngine:
    def test_verify_and_export_round_trip(
        self, engine: Engine, clock: SettableClock, notified: str
    ) -> None:
        """An engine rebuilt from its export holds equal cases and verifies."""
        to_litigation(engine, clock, notified)
        engine.record_payment(notified, cny("500.00"))
        assert engine.verify() == []
        out = io.StringIO()
        engine.export_journal(out)
        rebuilt = Engine.from_journal(out.getvalue().splitlines(), clock=clock)
        assert rebuilt.case(notified) == engine.case(notified)
        assert rebuilt.verify() == []
        today = rebuilt.case(notified).local_date(clock.now())
        rebuilt.record_promise(notified, cny("200.00"), today)  # fires promise
        assert rebuilt.case(notified).stage == "promise"
        assert rebuilt.replay(notified) == rebuilt.case(notified)

    def test_tampered_export_is_refused(self, engine: Engine, notified: str) -> None:
        """An export with one altered amount cannot be loaded into an engine."""
        engine.record_payment(notified, cny("100.00"))
        out = io.StringIO()
        engine.export_journal(out)
        tampered = out.getvalue().replace('"amount":"100.00"', '"amount":"900.00"')
        assert tampered != out.getvalue()
        with pytest.raises(JournalCorrupted, match="changed"):
            Engine.from_journal(tampered.splitlines())

    def test_export_restored_under_another_workflow_is_refused(
        self, clock: SettableClock, make_case: MakeCase
    ) -> None:
        """A journal recorded under one workflow is not restored under another one.

        The cards workflow has a ``letter`` stage the standard one lacks: a case
        standing there could not be worked on after a silent restore.
        """
        ladder = ("notified", "letter", "sms", "phone")
        cards = Workflow(standard_definition(ladder=ladder, name="cards", version="3"))
        engine = Engine(cards, clock=clock)
        case_id = engine.open_case(make_case()).id
        engine.fire(case_id, "notify")
        engine.fire(case_id, "escalate")
        assert engine.case(case_id).stage == "letter"
        out = io.StringIO()
        engine.export_journal(out)
        lines = out.getvalue().splitlines()
        with pytest.raises(InvalidInput, match=r"recorded under \(cards 3\)") as info:
            Engine.from_journal(lines, clock=clock)
        assert info.value.field == "workflow"
        assert info.value.value == "standard 1"
        # The same name without the stage the case stands in: refused too.
        narrower = Workflow(standard_definition(name="cards", version="4"))
        with pytest.raises(InvalidInput, match="stage 'letter'"):
            Engine.from_journal(lines, narrower, clock=clock)
        # The workflow it was recorded under, or a later version keeping its stages.
        later = Workflow(standard_definition(ladder=ladder, name="cards", version="4"))
        for same in (cards, later):
            restored = Engine.from_journal(lines, same, clock=clock)
            assert restored.case(case_id) == engine.case(case_id)
            restored.fire(case_id, "escalate")
            assert restored.case(case_id).stage == "sms"


class TestLogsAndPersonalData:
    def test_transition_log_binds_the_case_id(
        self, engine: Engine, notified: str, logs: list[dict[str, Any]]
    ) -> None:
        """Each transition is logged with the case id, trigger, stages and actor."""
        engine.fire(notified, "escalate")
        transitions = [entry for entry in logs if entry["event"] == "transition"]
        assert len(transitions) == 1
        assert contains(
            transitions[0],
            log_level="info",
            case_id="C-1",
            trigger="escalate",
            source="notified",
            dest="sms",
            actor="system",
        )

    def test_refusal_is_logged(
        self, engine: Engine, notified: str, logs: list[dict[str, Any]]
    ) -> None:
        """A refusal is logged with the case id and the failed guards."""
        with pytest.raises(TransitionDenied):
            engine.fire(notified, "start_legal")
        refused = [entry for entry in logs if entry["event"] == "transition_refused"]
        assert len(refused) == 1
        assert refused[0]["case_id"] == "C-1"
        assert "dpd_at_least(90)" in refused[0]["guards"]

    def test_no_personal_data_in_logs_or_messages(
        self,
        engine: Engine,
        clock: SettableClock,
        make_case: MakeCase,
        personal_data: tuple[str, ...],
        logs: list[dict[str, Any]],
    ) -> None:
        """Names and phone numbers never reach a log event or an exception message."""
        messages: list[str] = []
        case_id = engine.open_case(make_case()).id
        engine.fire(case_id, "notify")
        engine.record_interaction(case_id, "call", "no_answer", contact="p1")
        engine.record_interaction(case_id, "sms", "delivered", contact="p2", automated=True)
        hold = engine.add_hold(case_id, "dispute", "amount disputed")
        for call in (
            lambda: engine.fire(case_id, "escalate"),
            lambda: engine.fire(case_id, "start_legal", actor=AGENT),
            lambda: engine.record_interaction(case_id, "call", "busy", contact="p9"),
            lambda: engine.open_case(make_case()),
            lambda: engine.record_payment(case_id, Money("1", "USD")),
        ):
            with pytest.raises(ArrearsError) as info:
                call()
            messages.append(str(info.value))
        engine.release_hold(case_id, hold.id)
        engine.record_payment(case_id, cny("1070.00"))
        assert {entry["case_id"] for entry in logs} == {"C-1"}
        assert len(logs) >= 8
        text = repr(logs) + "\n".join(messages)
        for secret in personal_data:
            assert secret not in text

    def test_phone_number_given_as_contact_is_not_echoed(
        self, engine: Engine, case_id: str
    ) -> None:
        """A phone number passed where a contact id belongs is refused without repeating it."""
        with pytest.raises(InvalidInput) as info:
            engine.record_interaction(case_id, "call", "busy", contact="+8613812345678")
        assert info.value.field == "contact"
        assert "13812345678" not in str(info.value)
