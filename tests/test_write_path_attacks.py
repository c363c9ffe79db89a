"""The write path under attack: failures at every point of an operation, nested units of
work with refusals and interrupts, odd payment references, callers changing what they
are handed, and a process killed in the middle of a payment.

Each attack ends with the same questions, on every store: is the case as it was (or as
the unit that succeeded left it), does its journal replay to it, does every chain
verify, and does the engine keep working.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from _postgres import fresh_schema, postgres_url
from arrears import (
    Actor,
    ApprovalLimits,
    Case,
    CurrencyMismatch,
    Engine,
    MemoryStore,
    Money,
    RepaymentPlan,
    SettableClock,
    TransitionDenied,
)
from arrears.guards import GuardContext, GuardFailure
from arrears.journal import JournalEntry
from arrears.plans import instalment_schedule
from arrears.store import Store
from arrears.stores import SQLiteStore
from arrears.workflow import Workflow, standard_definition

START = datetime(2026, 10, 1, 1, 0, tzinfo=UTC)
AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("super-2", frozenset({"supervisor"}))
LIMITS = ApprovalLimits(limits={"supervisor": Money("5000.00", "CNY")})


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def record(case_id: str = "C-1") -> dict[str, Any]:
    """A CNY 1,070.00 loan overdue since 2026-09-01, in the phone stage."""
    return {
        "id": case_id,
        "debtor": {"id": f"D-{case_id}", "timezone": "Asia/Shanghai"},
        "contacts": [{"id": "p1", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": "1000.00", "interest": "70.00"},
        "due_date": "2026-09-01",
        "stage": "phone",
    }


def dump(case: Case) -> dict[str, Any]:
    return case.model_dump(mode="json")


def kinds(engine: Engine, case_id: str = "C-1") -> list[str]:
    return [entry.kind for entry in engine.history(case_id)]


def state(engine: Engine, case_id: str = "C-1") -> dict[str, Any]:
    """Everything an operation that failed must leave as it was."""
    return {
        "case": dump(engine.case(case_id)),
        "chain": [(entry.kind, entry.hash) for entry in engine.history(case_id)],
        "replay": dump(engine.replay(case_id)),
        "attempts": len(engine.contact_history(case_id).attempts),
        "tasks": [task.id for task in engine.tasks()],
        "verify": engine.verify(),
    }


class _Boom(RuntimeError):
    """A fault inside an operation, after some of its entries were recorded."""


class _Failing:
    """Makes a store's ``append`` raise on the *n*-th call once armed."""

    def __init__(self) -> None:
        self.on: int | None = None
        self.calls = 0

    def arm(self, on: int) -> None:
        self.on, self.calls = on, 0

    def check(self, entry: JournalEntry) -> None:
        if self.on is None:
            return
        self.calls += 1
        if self.calls == self.on:
            self.on = None
            raise _Boom(f"append #{self.calls} ({entry.kind}) failed")


class _FailingMemory(MemoryStore):
    fault = _Failing()

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        self.fault.check(entry)
        super().append(entry, case)


class _FailingSQLite(SQLiteStore):
    fault = _Failing()

    def append(self, entry: JournalEntry, case: Case | None = None) -> None:
        self.fault.check(entry)
        super().append(entry, case)


STORES = ["memory", "sqlite", "postgres"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each store, with an ``append`` that can be made to fail (``store.fault.arm(n)``)."""
    if request.param == "memory":
        _FailingMemory.fault = _Failing()
        yield _FailingMemory()
        return
    if request.param == "sqlite":
        _FailingSQLite.fault = _Failing()
        with _FailingSQLite(tmp_path / "arrears.db") as opened:
            yield opened
        return
    url = postgres_url()
    from arrears.stores.postgres import PostgresStore

    class _FailingPostgres(PostgresStore):
        fault = _Failing()

        def append(self, entry: JournalEntry, case: Case | None = None) -> None:
            self.fault.check(entry)
            super().append(entry, case)

    with fresh_schema(url) as schema, _FailingPostgres(url, schema=schema, max_size=2) as opened:
        yield opened


def _with_guard(
    trigger: str, guard: Callable[[Case, GuardContext], GuardFailure | None]
) -> Workflow:
    """The standard workflow with *guard* added to every route of *trigger*."""
    base = standard_definition()
    transitions = tuple(
        dataclasses.replace(spec, guards=(*spec.guards, guard)) if spec.trigger == trigger else spec
        for spec in base.transitions
    )
    return Workflow(dataclasses.replace(base, transitions=transitions))


def _raising_from_call(number: int) -> Callable[[Case, GuardContext], GuardFailure | None]:
    """A host's guard that passes until its *number*-th run, then raises (a bug in it)."""
    runs = [0]

    def guard(case: Case, ctx: GuardContext) -> GuardFailure | None:
        runs[0] += 1
        if runs[0] >= number:
            raise _Boom(f"guard run {runs[0]}")
        return None

    return guard


def _plan() -> RepaymentPlan:
    parts = instalment_schedule(cny("1070.00"), date(2026, 10, 31), count=2)
    return RepaymentPlan(id="P-1", kind="minimum", instalments=parts)


# Each: the trigger whose guard raises, on which of its runs, and the operation.
FAULTY_GUARDS: dict[str, tuple[str, int, Callable[[Engine], object]]] = {
    "cure after the payment": (
        "cure",
        1,
        lambda e: e.record_payment("C-1", cny("1070.00"), reference="TX-1"),
    ),
    "promise after promise_made": (
        "promise",
        1,
        lambda e: e.record_promise("C-1", cny("1070.00"), date(2026, 10, 8), actor=AGENT),
    ),
    "offer_plan after plan_started": (
        "offer_plan",
        2,
        lambda e: e.start_plan("C-1", _plan(), actor=AGENT),
    ),
    "settle after the settlement": (
        "settle",
        2,
        lambda e: e.settle("C-1", cny("600.00"), actor=SUPERVISOR, limits=LIMITS),
    ),
}


class TestAFaultInsideAnOperation:
    @pytest.mark.parametrize("name", list(FAULTY_GUARDS))
    def test_a_guard_that_raises_mid_operation_stores_nothing(
        self, store: Store, name: str
    ) -> None:
        """The entries recorded before the guard ran are taken back; the engine goes on."""
        trigger, run, operation = FAULTY_GUARDS[name]
        clock = SettableClock(START)
        engine = Engine(_with_guard(trigger, _raising_from_call(run)), store=store, clock=clock)
        engine.open_case(record())
        before = state(engine)
        with pytest.raises(_Boom):
            operation(engine)
        assert state(engine) == before
        clock.advance(timedelta(minutes=5))
        engine.record_interaction("C-1", "call", "no_answer", contact="p1")
        assert kinds(engine) == ["opened", "interaction"]
        assert dump(engine.replay("C-1")) == dump(engine.case("C-1"))

    @pytest.mark.parametrize("failing", [2, 3])
    def test_a_store_that_fails_on_a_later_entry_stores_nothing(
        self, store: Store, failing: int
    ) -> None:
        """A payment that keeps a promise and cures: payment, promise_resolved, cure.

        The store fails on the second or the third of them: none is stored,
        the case is as before, and the payment sent again is recorded whole.
        """
        clock = SettableClock(START)
        engine = Engine(store=store, clock=clock)
        engine.open_case(record())
        engine.record_promise("C-1", cny("1070.00"), date(2026, 10, 8), actor=AGENT)
        before = state(engine)
        store.fault.arm(failing)  # type: ignore[attr-defined]
        with pytest.raises(_Boom):
            engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert state(engine) == before
        clock.advance(timedelta(minutes=5))
        result = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert result.cured is not None
        assert result.cured.dest == "resolved"
        assert kinds(engine)[-3:] == ["payment", "promise_resolved", "transition"]
        case = engine.case("C-1")
        assert (case.stage, str(case.arrears), str(case.promise.status)) == (  # type: ignore[union-attr]
            "resolved",
            str(cny("0.00")),
            "kept",
        )
        assert engine.verify() == []


class TestNestedUnits:
    @pytest.fixture
    def engine(self, store: Store) -> Engine:
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        engine.open_case(record("C-2"))
        return engine

    def test_a_refusal_caught_inside_then_another_error_stores_nothing(
        self, engine: Engine
    ) -> None:
        """The refusal is evidence only while the block stands: the block failing takes it back."""

        def refused() -> None:
            with engine.atomic():
                engine.fire("C-1", "file_suit", actor=AGENT)

        def block() -> None:
            with engine.atomic():
                engine.record_interaction("C-1", "call", "no_answer", contact="p1")
                with pytest.raises(TransitionDenied):
                    refused()
                raise _Boom("the host's own step")

        with pytest.raises(_Boom):
            block()
        assert kinds(engine) == ["opened"]
        assert engine.verify() == []

    def test_a_refusal_leaving_the_block_stores_what_came_before_it(self, engine: Engine) -> None:
        """An uncaught refusal: its entry and everything before it in the block are stored."""

        def block() -> None:
            with engine.atomic():
                engine.record_interaction("C-1", "call", "no_answer", contact="p1")
                engine.record_payment("C-2", cny("5.00"), reference="TX-5")
                with engine.atomic():
                    engine.record_interaction("C-1", "call", "busy", contact="p1")
                    engine.fire("C-1", "file_suit", actor=AGENT)

        with pytest.raises(TransitionDenied):
            block()
        assert kinds(engine) == ["opened", "interaction", "interaction", "refusal"]
        assert kinds(engine, "C-2") == ["opened", "payment"]
        assert str(engine.case("C-2").arrears) == str(cny("1065.00"))
        for case_id in ("C-1", "C-2"):
            assert dump(engine.replay(case_id)) == dump(engine.case(case_id))

    def test_a_refusal_wrapped_by_the_host_stores_nothing(self, engine: Engine) -> None:
        """Raised again as another error, the refusal no longer commits the block."""

        def block() -> None:
            with engine.atomic():
                engine.record_interaction("C-1", "call", "no_answer", contact="p1")
                try:
                    engine.fire("C-1", "file_suit", actor=AGENT)
                except TransitionDenied as denied:
                    raise _Boom("wrapped") from denied

        with pytest.raises(_Boom):
            block()
        assert kinds(engine) == ["opened"]

    def test_an_interrupt_in_an_inner_block_takes_back_only_that_block(
        self, engine: Engine
    ) -> None:
        def interrupted() -> None:
            with engine.atomic():
                engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
                raise KeyboardInterrupt

        with engine.atomic():
            engine.record_interaction("C-1", "call", "no_answer", contact="p1")
            with pytest.raises(KeyboardInterrupt):
                interrupted()
            engine.record_interaction("C-1", "call", "busy", contact="p1")
        assert kinds(engine) == ["opened", "interaction", "interaction"]
        assert engine.case("C-1").stage == "phone"
        assert dump(engine.replay("C-1")) == dump(engine.case("C-1"))

    def test_after_an_interrupt_each_operation_is_its_own_unit_again(self, engine: Engine) -> None:
        """SystemExit through two levels: nothing stored, and the engine is outside any unit.

        Outside a unit, a refusal commits only itself and the call before it stays.
        """

        def block() -> None:
            with engine.atomic():
                engine.record_interaction("C-1", "call", "no_answer", contact="p1")
                with engine.atomic():
                    engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
                    raise SystemExit(3)

        with pytest.raises(SystemExit):
            block()
        assert kinds(engine) == ["opened"]
        engine.record_interaction("C-2", "call", "no_answer", contact="p1")
        with pytest.raises(TransitionDenied):
            engine.fire("C-1", "file_suit", actor=AGENT)
        assert kinds(engine, "C-2") == ["opened", "interaction"]
        assert kinds(engine) == ["opened", "refusal"]

    def test_a_payment_taken_back_by_a_savepoint_is_recorded_when_sent_again(
        self, engine: Engine
    ) -> None:
        """The reference of a rolled-back payment is free: sending it again records it once."""

        def inner() -> None:
            with engine.atomic():
                engine.record_payment("C-1", cny("100.00"), reference="TX-1")
                raise _Boom("inner")

        with engine.atomic():
            with pytest.raises(_Boom):
                inner()
            engine.record_payment("C-1", cny("100.00"), reference="TX-1")
        references = [e.data.get("reference") for e in engine.history("C-1")]
        assert references.count("TX-1") == 1
        assert str(engine.case("C-1").arrears) == str(cny("970.00"))


class TestReferences:
    @pytest.fixture
    def engine(self, store: Store) -> Engine:
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        return engine

    def test_the_longest_reference_in_four_byte_characters_is_idempotent(
        self, engine: Engine
    ) -> None:
        """128 characters of four UTF-8 bytes each: stored, and known again."""
        reference = "\N{GRINNING FACE}" * 128
        first = engine.record_payment("C-1", cny("10.00"), reference=reference)
        again = engine.record_payment("C-1", cny("10.00"), reference=reference)
        assert again == first
        stored = [e.data["reference"] for e in engine.history("C-1") if e.kind == "payment"]
        assert stored == [reference]

    def test_a_payment_sent_again_ignores_the_time_the_order_and_the_amounts_exponent(
        self, engine: Engine
    ) -> None:
        """A resend with an older ``at``, another allocation order, or 10.0 for 10.00."""
        first = engine.record_payment("C-1", cny("10.00"), reference="TX-1")
        engine.clock.advance(timedelta(hours=1))  # type: ignore[attr-defined]
        engine.record_interaction("C-1", "call", "no_answer", contact="p1")
        order = ("principal", "interest", "fees", "penalty")
        assert engine.record_payment("C-1", cny("10.0"), reference="TX-1", at=START) == first
        assert engine.record_payment("C-1", cny("10.00"), reference="TX-1", order=order) == first
        assert kinds(engine) == ["opened", "payment", "interaction"]

    def test_the_same_amount_in_another_currency_is_refused(self, engine: Engine) -> None:
        engine.record_payment("C-1", cny("10.00"), reference="TX-1")
        with pytest.raises(CurrencyMismatch) as info:
            engine.record_payment("C-1", Money("10.00", "USD"), reference="TX-1")
        assert (info.value.field, info.value.left, info.value.right) == ("amount", "CNY", "USD")
        assert kinds(engine) == ["opened", "payment"]


class TestNothingReturnedIsLive:
    def test_changing_results_and_nested_entry_data_changes_nothing_stored(
        self, store: Store
    ) -> None:
        engine = Engine(store=store, clock=SettableClock(START))
        engine.open_case(record())
        engine.open_case(record("C-2"))
        promise = engine.record_promise("C-1", cny("1070.00"), date(2026, 10, 8), actor=AGENT)
        plan = engine.start_plan("C-2", _plan(), actor=AGENT)
        with pytest.raises(ValidationError):
            promise.paid = Decimal("999")
        with pytest.raises(ValidationError):
            plan.paid = Decimal("500")
        paid = engine.record_payment("C-1", cny("100.00"), reference="TX-1")
        paid.applied["principal"] = cny("999.00")  # type: ignore[index]
        waiver = engine.waive("C-1", cny("10.00"), actor=SUPERVISOR, limits=LIMITS)
        waiver.applied["principal"] = cny("999.00")  # type: ignore[index]
        engine.clock.advance(timedelta(minutes=1))  # type: ignore[attr-defined]
        reversal = engine.reverse_payment("C-1", "TX-1")
        reversal.restored["principal"] = cny("999.00")  # type: ignore[index]
        chain = [(e.kind, e.hash, e.data) for e in engine.history("C-1")]
        for entry in engine.history("C-1"):
            for value in entry.data.values():
                if isinstance(value, dict):
                    value["principal"] = "999.00"
                elif isinstance(value, list):
                    value.append("999.00")
        for entry in engine.facts("C-1").entries():
            entry.data.clear()

        assert [(e.kind, e.hash, e.data) for e in engine.history("C-1")] == chain
        case = engine.case("C-1")
        assert str(case.arrears) == str(cny("1060.00"))  # 1070 - 100 - 10 + 100 reversed
        assert case.promise is not None
        assert str(case.promise.paid) == "0.00"
        assert str(engine.case("C-2").plan.paid) == "0.00"  # type: ignore[union-attr]
        assert dump(engine.replay("C-1")) == dump(case)
        assert engine.verify() == []


# -- a process killed in the middle of a payment ----------------------------------------------
_PAYER = """
import logging, sys, time
from datetime import UTC, datetime
import structlog
structlog.configure(  # logs to standard error: standard output is the report
    wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    logger_factory=structlog.PrintLoggerFactory(sys.stderr),
)
from arrears import Engine, Money, SettableClock
from arrears.stores import SQLiteStore
sys.path.insert(0, {tests!r})
from test_write_path_attacks import _with_guard

def hang(case, ctx):
    print("in-cure", flush=True)
    time.sleep(60)

store = SQLiteStore({path!r})
engine = Engine(_with_guard("cure", hang), store=store,
                clock=SettableClock(datetime(2026, 10, 1, 2, tzinfo=UTC)))
engine.record_interaction("C-1", "call", "no_answer", contact="p1")
print("called", flush=True)
engine.record_payment("C-1", Money("1070.00", "CNY"), reference="TX-1")
"""


def test_a_payer_killed_before_its_cure_leaves_no_payment(tmp_path: Path) -> None:
    """SIGKILL while the cure is decided: the payment is not stored without its cure.

    The call made before it is stored; the payment sent again by a new process is
    recorded once and cures the case.
    """
    path = tmp_path / "arrears.db"
    with SQLiteStore(path) as opened:
        Engine(store=opened, clock=SettableClock(START)).open_case(record())
    script = _PAYER.format(tests=str(Path(__file__).parent), path=str(path))
    payer = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert payer.stdout is not None
        assert payer.stdout.readline().strip() == "called"
        assert payer.stdout.readline().strip() == "in-cure"
    finally:
        payer.send_signal(signal.SIGKILL)
        payer.communicate(timeout=30)
    assert payer.returncode == -signal.SIGKILL
    with SQLiteStore(path) as reopened:
        clock = SettableClock(START + timedelta(hours=2))
        engine = Engine(store=reopened, clock=clock)
        assert kinds(engine) == ["opened", "interaction"]
        assert str(engine.case("C-1").arrears) == str(cny("1070.00"))
        assert engine.verify() == []
        assert dump(engine.replay("C-1")) == dump(engine.case("C-1"))
        result = engine.record_payment("C-1", cny("1070.00"), reference="TX-1")
        assert result.cured is not None
        assert (result.cured.dest, engine.case("C-1").stage) == ("resolved", "resolved")
        assert kinds(engine) == ["opened", "interaction", "payment", "transition"]
