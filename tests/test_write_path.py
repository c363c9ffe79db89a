"""The one write path: every operation is one unit of work, and nothing returned is live.

An operation (a payment and the cure it causes, a promise and its
transition…) is stored whole or not at all, on every store; a payment sent
again under its reference records nothing; a lost race is decided again on
the case as stored; what the engine returns is a copy.  Two processes race
on one SQLite file and on one PostgreSQL schema; a hypothesis machine
interleaves two engines on one store.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from _postgres import fresh_schema, postgres_url
from arrears import (
    Actor,
    ApprovalLimits,
    Case,
    Engine,
    Instalment,
    InvalidInput,
    MemoryStore,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
)
from arrears.errors import ConcurrencyConflict
from arrears.guards import GuardContext, GuardFailure
from arrears.store import Store
from arrears.stores import SQLiteStore
from arrears.workflow import TransitionSpec, Workflow, standard_definition

START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
AGENT = Actor("agent-7", frozenset({"agent"}))
WORKER = Path(__file__).with_name("_race_worker.py")


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def record(case_id: str = "C-1", **overrides: Any) -> dict[str, Any]:
    """A CNY 1,070.00 loan overdue since 2026-09-01, in the phone stage."""
    data: dict[str, Any] = {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai"},
        "contacts": [{"id": "p1", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": "1000.00", "interest": "70.00"},
        "due_date": "2026-09-01",
        "stage": "phone",
    }
    data.update(overrides)
    return data


def dump(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json")


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
        return
    with SQLiteStore(tmp_path / "arrears.db") as opened:
        yield opened


class _Boom(RuntimeError):
    """A fault inside an operation, after some of its entries were recorded."""


def _guarded(trigger: str, check: Callable[[Case, GuardContext], GuardFailure | None]) -> Workflow:
    """The standard workflow with one more guard on *trigger*."""
    base = standard_definition()
    transitions = tuple(
        TransitionSpec(spec.trigger, spec.sources, spec.dest, (*spec.guards, check))
        if spec.trigger == trigger
        else spec
        for spec in base.transitions
    )
    return Workflow(dataclasses.replace(base, transitions=transitions))


def _exploding_cure() -> Workflow:
    """The standard workflow whose ``cure`` guard raises (a bug in a host's guard)."""

    def explode(case: Case, ctx: GuardContext) -> GuardFailure | None:
        raise _Boom("the guard failed")

    return _guarded("cure", explode)


class TestOneUnitOfWork:
    def test_a_payment_whose_cure_fails_stores_nothing(self, store: Store) -> None:
        """The payment is written with the cure it causes, or not at all."""
        engine = Engine(_exploding_cure(), store=store, clock=SettableClock(START))
        engine.open_case(record())
        before = engine.history("C-1")
        with pytest.raises(_Boom):
            engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert engine.history("C-1") == before
        case = engine.case("C-1")
        assert (case.stage, str(case.arrears)) == ("phone", str(cny("1070.00")))
        assert dump(engine.replay("C-1")) == dump(case)
        assert engine.verify() == []

    def test_a_payment_that_clears_the_arrears_is_cured_in_the_same_unit(
        self, store: Store
    ) -> None:
        """Payment and cure: one call, both entries, the case cured."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        result = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert result.cured is not None
        assert result.cured.dest == "resolved"
        kinds = [entry.kind for entry in engine.history("C-1")]
        assert kinds == ["opened", "payment", "transition"]
        assert engine.case("C-1").stage == "resolved"

    def test_a_promise_is_stored_with_its_transition(self, store: Store) -> None:
        """The promise and the ``promise`` transition are one unit."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        engine.record_promise("C-1", cny("1070.00"), date(2026, 10, 8), actor=AGENT)
        assert [e.kind for e in engine.history("C-1")][-2:] == ["promise_made", "transition"]
        assert engine.case("C-1").stage == "promise"

    def test_a_refusal_is_journaled_and_raised(self, store: Store) -> None:
        """A refused trigger stores its refusal (evidence), then raises."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        with pytest.raises(TransitionDenied):
            engine.fire("C-1", "file_suit", actor=AGENT)
        assert engine.history("C-1")[-1].kind == "refusal"
        assert engine.case("C-1").stage == "phone"

    def test_an_atomic_block_is_stored_whole_or_not_at_all(self, store: Store) -> None:
        """Several operations in `Engine.atomic`: a failure takes them all back."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        engine.open_case(record("C-2"))

        def both_then_fail() -> None:
            with engine.atomic():
                engine.record_interaction("C-1", "call", "conversation", contact="p1")
                engine.record_payment("C-2", cny("100.00"), reference="TX-2")
                raise _Boom("the host's own step failed")

        with pytest.raises(_Boom):
            both_then_fail()
        assert [len(engine.history(c)) for c in ("C-1", "C-2")] == [1, 1]
        assert engine.case("C-2").arrears == cny("1070.00")
        with engine.atomic():
            engine.record_interaction("C-1", "call", "conversation", contact="p1")
            engine.record_payment("C-2", cny("100.00"), reference="TX-2")
        assert [len(engine.history(c)) for c in ("C-1", "C-2")] == [2, 2]
        assert engine.verify() == []

    def test_a_failed_nested_block_takes_back_only_its_own_writes(self, store: Store) -> None:
        """A nested `atomic` block is a savepoint."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())

        def pay_then_fail() -> None:
            with engine.atomic():
                engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
                raise _Boom("inner")

        with engine.atomic():
            engine.record_interaction("C-1", "call", "no_answer", contact="p1")
            with pytest.raises(_Boom):
                pay_then_fail()
            engine.record_interaction("C-1", "call", "busy", contact="p1")
        kinds = [entry.kind for entry in engine.history("C-1")]
        assert kinds == ["opened", "interaction", "interaction"]
        assert engine.case("C-1").stage == "phone"
        assert dump(engine.replay("C-1")) == dump(engine.case("C-1"))


def _at_least_500_overdue(case: Case, ctx: GuardContext) -> GuardFailure | None:
    if case.arrears < cny("500.00"):
        return GuardFailure("at_least_500_overdue", f"arrears are {case.arrears}", {})
    return None


def _no_active_plan(case: Case, ctx: GuardContext) -> GuardFailure | None:
    if case.plan is not None and case.plan.is_active:
        return GuardFailure("no_active_plan", "a plan is active already", {})
    return None


class TestTransitionsJudgedAfterWhatLeadsToThem:
    """A settlement or a plan is stored with its transition, or not at all."""

    def test_a_settlement_whose_settle_is_refused_is_not_stored(self, store: Store) -> None:
        """`settle` judged on the case as the settlement leaves it: refused, nothing settled."""
        engine = Engine(
            _guarded("settle", _at_least_500_overdue), store=store, clock=SettableClock(START)
        )
        engine.open_case(record())
        supervisor = Actor("sup-2", frozenset({"supervisor"}))
        limits = ApprovalLimits(limits={"supervisor": cny("5000.00")})
        with pytest.raises(TransitionDenied) as denied:
            engine.settle("C-1", cny("600.00"), actor=supervisor, limits=limits)
        assert [f.guard for f in denied.value.failures] == ["at_least_500_overdue"]
        assert [entry.kind for entry in engine.history("C-1")] == ["opened", "refusal"]
        case = engine.case("C-1")
        assert (case.stage, case.arrears) == ("phone", cny("1070.00"))
        assert dump(engine.replay("C-1")) == dump(case)

    def test_a_plan_whose_offer_is_refused_is_not_stored(self, store: Store) -> None:
        """`offer_plan` judged on the case with the plan started: refused, no plan."""
        engine = Engine(
            _guarded("offer_plan", _no_active_plan), store=store, clock=SettableClock(START)
        )
        engine.open_case(record())
        plan = RepaymentPlan(
            id="P-1",
            kind="minimum",
            instalments=(
                Instalment(due=date(2026, 10, 15), amount=cny("535.00")),
                Instalment(due=date(2026, 10, 31), amount=cny("535.00")),
            ),
        )
        with pytest.raises(TransitionDenied):
            engine.start_plan("C-1", plan, actor=AGENT)
        assert [entry.kind for entry in engine.history("C-1")] == ["opened", "refusal"]
        case = engine.case("C-1")
        assert (case.stage, case.plan) == ("phone", None)
        assert dump(engine.replay("C-1")) == dump(case)


class _FailingAppend(MemoryStore):
    """A store whose next append fails (a host's store that mirrors entries elsewhere)."""

    __slots__ = ("armed",)

    def __init__(self) -> None:
        super().__init__()
        self.armed = False

    def append(self, entry: Any, case: Case | None = None) -> None:
        if self.armed:
            self.armed = False
            raise OSError("the mirror is full")
        super().append(entry, case)


def test_a_case_changed_before_its_first_append_failed_is_as_stored() -> None:
    """The working copy an operation changed is rebuilt when its first append fails."""
    store = _FailingAppend()
    engine = Engine(store=store, clock=SettableClock(START))
    engine.open_case(record())
    store.armed = True
    with pytest.raises(OSError, match="mirror"):
        engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
    case = engine.case("C-1")
    assert (case.version, case.arrears, case.stage) == (1, cny("1070.00"), "phone")
    assert dump(engine.replay("C-1")) == dump(case)


class TestPaymentReferences:
    def test_a_payment_sent_again_records_nothing(self, store: Store) -> None:
        """The same reference and amount: the first result, no new entry."""
        clock = SettableClock(START)
        engine = Engine(store=store, clock=clock)
        engine.open_case(record())
        first = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        length = len(engine.history("C-1"))
        clock.advance(timedelta(hours=1))
        again = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert again == first
        assert again.cured is not None
        assert again.cured.dest == "resolved"
        assert len(engine.history("C-1")) == length

    def test_another_amount_under_a_used_reference_is_refused(self, store: Store) -> None:
        """The error names the reference and both amounts; nothing is recorded."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        engine.record_payment("C-1", cny("100.00"), reference="TX-1")
        length = len(engine.history("C-1"))
        with pytest.raises(InvalidInput) as info:
            engine.record_payment("C-1", cny("150.00"), reference="TX-1")
        assert info.value.field == "reference"
        assert info.value.value == "TX-1"
        assert "100.00" in str(info.value)
        assert "150.00" in str(info.value)
        assert len(engine.history("C-1")) == length

    @pytest.mark.parametrize("reference", ["", "x" * 129, 42, "   ", "TX\x001", "TX\n1"])
    def test_a_bad_reference_is_refused(self, store: Store, reference: Any) -> None:
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        with pytest.raises(InvalidInput) as info:
            engine.record_payment("C-1", cny("100.00"), reference=reference)
        assert info.value.field == "reference"
        assert len(engine.history("C-1")) == 1

    def test_one_text_is_one_reference_whatever_its_unicode_form(self, store: Store) -> None:
        """'Café-1' composed or decomposed names one payment (kept in its NFC form)."""
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        composed, decomposed = "Caf\u00e9-1", "Cafe\u0301-1"
        first = engine.record_payment("C-1", cny("100.00"), reference=decomposed)
        assert engine.record_payment("C-1", cny("100.00"), reference=composed) == first
        payments = [e for e in engine.history("C-1") if e.kind == "payment"]
        assert [e.data["reference"] for e in payments] == [composed]


class TestNothingLiveIsReturned:
    def test_changing_what_the_engine_returns_changes_nothing_stored(self, store: Store) -> None:
        """Cases, entries and their data, histories and results are copies."""
        engine = Engine(store=store, clock=SettableClock(START))
        opened = engine.open_case(record())
        entry = engine.record_interaction("C-1", "call", "no_answer", contact="p1")
        stored = dump(engine.case("C-1"))
        chain = [(e.kind, e.hash, dict(e.data)) for e in engine.history("C-1")]

        opened.stage = "legal.litigation"
        opened.notices["demand_letter"] = START
        copy = engine.case("C-1")
        copy.stage = "legal.litigation"
        copy.version = 99
        entry.kind = "payment"
        entry.data["outcome"] = "conversation"
        for each in engine.history("C-1"):
            each.data.clear()
            each.kind = "payment"
        history = engine.contact_history("C-1")
        history.attempts.clear()
        facts = engine.facts("C-1")
        facts.case.stage = "legal.litigation"
        facts.history.attempts.clear()
        facts.entries()[-1].kind = "payment"

        assert dump(engine.case("C-1")) == stored
        assert [(e.kind, e.hash, dict(e.data)) for e in engine.history("C-1")] == chain
        assert len(engine.contact_history("C-1").attempts) == 1
        assert dump(engine.replay("C-1")) == stored
        assert engine.verify() == []
        # The engine still acts on the stored case: the phone stage, not litigation.
        engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert engine.case("C-1").stage == "resolved"


class _Racing:
    """A store whose first read of the case lets another engine write first (once)."""

    def __init__(self, inner: Any, rival: Callable[[], None]) -> None:
        self.inner, self.rival, self.reads, self.units = inner, rival, 0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def transaction(self) -> Any:
        """The store's unit of work, counted (one per attempt of an operation)."""
        self.units += 1
        return self.inner.transaction()

    def __contains__(self, case_id: object) -> bool:
        return case_id in self.inner

    def __len__(self) -> int:
        return len(self.inner)

    def get(self, case_id: str) -> Case:
        case = self.inner.get(case_id)
        self.reads += 1
        if self.reads == 1:
            self.rival()
        return case


class TestLostRaces:
    def test_a_payment_decides_on_the_case_as_stored_once_its_debtor_is_held(
        self, tmp_path: Path
    ) -> None:
        """PostgreSQL: another worker writes between our read and our lock; nothing is lost.

        The payment reads the case again once it holds the debtor, and is
        decided on it as stored (with the rival's call) in its first unit of
        work: recorded once, cured in the same unit, no conflict to retry.
        """
        url = postgres_url()
        from arrears.stores.postgres import PostgresStore

        with fresh_schema(url) as schema:
            clock = SettableClock(START)
            with (
                PostgresStore(url, schema=schema, max_size=2) as ours,
                PostgresStore(url, schema=schema, max_size=2) as theirs,
            ):
                rival = Engine(store=theirs, clock=clock)
                rival.open_case(record())

                def call_first() -> None:
                    rival.record_interaction("C-1", "call", "conversation", contact="p1")

                racing = _Racing(ours, call_first)
                engine = Engine(store=racing, clock=clock)  # type: ignore[arg-type]
                result = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
                assert racing.units == 1  # decided once: no conflict, no second attempt
                entries = engine.history("C-1")
                kinds = [entry.kind for entry in entries]
                assert kinds == ["opened", "interaction", "payment", "transition"]
                assert entries[2].seq == 2  # after the rival's call, in the one attempt
                assert result.cured is not None
                assert result.cured.dest == "resolved"
                assert engine.verify() == []
                assert dump(rival.case("C-1")) == dump(engine.replay("C-1"))

    def test_an_operation_gives_up_with_nothing_recorded(self, tmp_path: Path) -> None:
        """A rival that always wins: `ConcurrencyConflict` after the last try, nothing stored.

        The rival writes after each read of an operation that decides before
        it holds the debtor (a contact recorded): the check its lock brings
        finds the case changed, every time.
        """
        url = postgres_url()
        from arrears.engine import ATTEMPTS
        from arrears.stores.postgres import PostgresStore

        with fresh_schema(url) as schema:
            clock = SettableClock(START)
            with (
                PostgresStore(url, schema=schema, max_size=2) as ours,
                PostgresStore(url, schema=schema, max_size=2) as theirs,
            ):
                rival = Engine(store=theirs, clock=clock)
                rival.open_case(record())

                class Always(_Racing):
                    def get(self, case_id: str) -> Case:
                        case = self.inner.get(case_id)
                        self.reads += 1
                        self.rival()
                        return case

                def call_first() -> None:
                    rival.record_interaction("C-1", "call", "no_answer", contact="p1")

                racing = Always(ours, call_first)
                engine = Engine(store=racing, clock=clock)  # type: ignore[arg-type]
                with pytest.raises(ConcurrencyConflict):
                    engine.record_interaction("C-1", "sms", "delivered", contact="p1")
                kinds = Counter(entry.kind for entry in rival.history("C-1"))
                # The rival won every read (one per attempt); none of ours was kept.
                assert kinds == {"opened": 1, "interaction": racing.reads}
                assert racing.reads == racing.units == ATTEMPTS
                channels = {entry.data["channel"] for entry in rival.history("C-1")[1:]}
                assert channels == {"call"}


# -- two processes ---------------------------------------------------------------------------
CASES = 24
ROUNDS = 160


def _open_portfolio(engine: Engine) -> None:
    due = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    engine.open_cases(
        record(
            f"L-{number:03}",
            due_date=due,
            contacts=[
                {"id": "p1", "channel": "call", "address": f"+86138{number:08}"},
                {"id": "s1", "channel": "sms", "address": f"+86139{number:08}"},
            ],
            balance={"currency": "CNY", "principal": f"{1000 + number}.00"},
        )
        for number in range(CASES)
    )


def _race(target: str, schema: str) -> list[dict[str, Any]]:
    """Run a payer and an agent against one store at once; every line they printed."""
    sys.path.insert(0, str(WORKER.parent))
    try:
        from _race_worker import engine_on
    finally:
        sys.path.pop(0)
    engine = engine_on(target, schema)
    _open_portfolio(engine)
    engine.store.close()  # type: ignore[attr-defined]
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), role, target, schema, str(CASES), str(ROUNDS), seed],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for role, seed in (("payer", "1"), ("agent", "2"))
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    lines: list[dict[str, Any]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        lines += [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines


def _check_race(target: str, schema: str, lines: list[dict[str, Any]]) -> None:
    """What must hold after the race, read back through a fresh engine."""
    sys.path.insert(0, str(WORKER.parent))
    try:
        from _race_worker import engine_on
    finally:
        sys.path.pop(0)
    assert sum(line["op"] == "done" for line in lines) == 2
    assert not [line for line in lines if line["error"] == "Different"]  # retries: same result
    assert not [line for line in lines if line["op"] == "pay_other" and line["ok"]]
    engine = engine_on(target, schema)
    try:
        assert engine.verify() == []
        recorded: Counter[str] = Counter()
        for number in range(CASES):
            case_id = f"L-{number:03}"
            case = engine.case(case_id)
            assert dump(engine.replay(case_id)) == dump(case), case_id
            if not case.balance.has_arrears:  # every case with no arrears is cured
                assert case.stage in {"pre_due", "resolved", "settled", "written_off"}, case_id
            for entry in engine.history(case_id):
                data = entry.data
                marker = data.get("reference") or data.get("provider_id") or data.get("reason")
                if entry.kind in ("payment", "interaction", "waiver") and marker:
                    recorded[marker] += 1
        calls = [line for line in lines if line["op"] in ("pay", "call", "waive")]
        assert calls, "the workers made no calls"
        for line in calls:  # every call that returned is recorded once; one that raised, never
            assert recorded[line["marker"]] == (1 if line["ok"] else 0), line
        assert max(recorded.values()) == 1
        paid = sum(line["op"] == "pay" and line["ok"] for line in lines)
        cured = sum(not engine.case(f"L-{n:03}").balance.has_arrears for n in range(CASES))
        assert paid > 0  # the race exercised payments…
        assert cured > 0  # …and cures
    finally:
        engine.store.close()  # type: ignore[attr-defined]


class TestTwoProcesses:
    def test_sqlite(self, tmp_path: Path) -> None:
        """A payer and an agent (with ticks) on one SQLite file."""
        target = str(tmp_path / "race.db")
        _check_race(target, "-", _race(target, "-"))

    def test_postgres(self) -> None:
        """A payer and an agent (with ticks) on one PostgreSQL schema."""
        url = postgres_url()
        with fresh_schema(url) as schema:
            _check_race(url, schema, _race(url, schema))


# -- two engines, one store ---------------------------------------------------------------------
class TwoEngines(RuleBasedStateMachine):
    """Two engines on one SQLite file (two connections) interleave operations on three cases."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.folder = tempfile.TemporaryDirectory()
        path = Path(self.folder.name) / "two.db"
        self.clock = SettableClock(START)
        self.stores = [SQLiteStore(path), SQLiteStore(path)]
        self.engines = [Engine(store=store, clock=self.clock) for store in self.stores]
        for case_id in ("C-1", "C-2", "C-3"):
            self.engines[0].open_case(record(case_id))
        self.references: dict[str, str] = {}  # reference -> case id
        self.number = 0

    def teardown(self) -> None:
        for store in self.stores:
            store.close()
        self.folder.cleanup()

    @rule(
        which=st.integers(0, 1),
        case_id=st.sampled_from(["C-1", "C-2", "C-3"]),
        cents=st.integers(1, 120_000),
    )
    def pay(self, which: int, case_id: str, cents: int) -> None:
        engine = self.engines[which]
        self.clock.advance(timedelta(minutes=1))
        self.number += 1
        reference = f"TX-{self.number}"
        result = engine.record_payment(
            case_id, Money(f"{cents / 100:.2f}", "CNY"), reference=reference
        )
        self.references[reference] = case_id
        other = self.engines[1 - which]  # the other engine, sent the same payment again
        assert (
            other.record_payment(case_id, Money(f"{cents / 100:.2f}", "CNY"), reference=reference)
            == result
        )

    @rule(
        which=st.integers(0, 1),
        case_id=st.sampled_from(["C-1", "C-2", "C-3"]),
        outcome=st.sampled_from(["no_answer", "conversation", "busy"]),
    )
    def call(self, which: int, case_id: str, outcome: str) -> None:
        self.clock.advance(timedelta(minutes=1))
        self.engines[which].record_interaction(case_id, "call", outcome, contact="p1")

    @rule(which=st.integers(0, 1), case_id=st.sampled_from(["C-1", "C-2", "C-3"]))
    def promise(self, which: int, case_id: str) -> None:
        engine = self.engines[which]
        self.clock.advance(timedelta(minutes=1))
        arrears = engine.case(case_id).arrears
        if arrears.is_zero:
            return
        engine.record_promise(case_id, arrears, date(2026, 12, 1), actor=AGENT)
        assert engine.case(case_id).promise is not None

    @rule(which=st.integers(0, 1), case_id=st.sampled_from(["C-1", "C-2", "C-3"]))
    def add_hold(self, which: int, case_id: str) -> None:
        self.clock.advance(timedelta(minutes=1))
        self.engines[which].add_hold(case_id, "dispute", "the debtor disputes the amount")

    @invariant()
    def both_engines_see_the_stored_case(self) -> None:
        one, two = self.engines
        for case_id in ("C-1", "C-2", "C-3"):
            seen = dump(one.case(case_id))
            assert dump(two.case(case_id)) == seen
            assert dump(one.replay(case_id)) == seen
            if not one.case(case_id).balance.has_arrears:
                assert seen["stage"] in ("pre_due", "resolved")
            payments = [e for e in one.history(case_id) if e.kind == "payment"]
            references = [e.data["reference"] for e in payments]
            assert len(references) == len(set(references))
            assert {r for r, c in self.references.items() if c == case_id} == set(references)

    @invariant()
    def the_contact_histories_agree(self) -> None:
        one, two = self.engines
        for case_id in ("C-1", "C-2", "C-3"):
            assert one.contact_history(case_id).attempts == two.contact_history(case_id).attempts


TestTwoEngines = TwoEngines.TestCase
TestTwoEngines.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
