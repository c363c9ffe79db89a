"""The debtor locks on PostgreSQL: what a tick's batch judges, and no deadlock by construction.

Each test runs two writers, each on a connection (a store) of its own, one in a
thread, at the moment that matters.  A tick's batch locks its debtors before it
reads what is on file about them; every write to a debtor's cases holds the same
lock until it commits, so a contact an agent is recording on one loan is either
read by the batch reviewing the debtor's other loan, or recorded after it.  The
locks are taken in one order (the lock on every debtor before any debtor's, then
the debtors' in key order): a bulk open inside a unit of work that holds a
debtor locks its debtors instead of every debtor, and a debtor asked for out of
order is only tried, so PostgreSQL never has a deadlock to break
(``40P01``).  SQLite (``BEGIN IMMEDIATE``: one writer at a time) gives the same
answers where the test makes sense there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import Database, postgres_url, run_sql
from arrears import Engine, SettableClock
from arrears.channels import RecordingChannel
from arrears.errors import ConcurrencyConflict
from arrears.policy import Policy, load_policy
from test_debtor_races import Meanwhile

START = datetime(2026, 10, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CN_POLICY = Path(__file__).resolve().parent.parent / "examples/policies/cn_consumer_loan.yaml"


def loan(case_id: str, debtor: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "s", "channel": "sms", "address": "+8613900001111"}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-10-01",
        "stage": "notified",
    }


@pytest.fixture(scope="module")
def per_debtor(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """The CN policy, which sends an SMS on each loan today, and at most one SMS a day
    to a debtor, whatever the loan (``POLICY-PER-DEBTOR-1``)."""
    text = CN_POLICY.read_text(encoding="utf-8").replace(
        "templates: ../templates", f"templates: {CN_POLICY.parent.parent / 'templates'}"
    )
    path = tmp_path_factory.mktemp("policy") / "per_debtor.yaml"
    path.write_text(text + "per_debtor:\n  - {channels: [sms], limit: 1}\n", "utf-8")
    return load_policy(path)


class Writers:
    """Engines on one database, each with a store (a connection) of its own."""

    def __init__(self, store: Callable[[], Any], stack: ExitStack, policy: Policy) -> None:
        self._store = store
        self._stack = stack
        self.policy = policy
        self.sent: list[Any] = []

    def engine(self, store: Any) -> Engine:
        sms = RecordingChannel(channels=frozenset({"sms"}))
        sms.sent = self.sent  # one list for every engine: what the debtor received
        return Engine(
            policy=self.policy,
            store=store,
            channels=[sms],
            clock=SettableClock(START + timedelta(minutes=5)),
        )

    def __call__(self) -> Engine:
        """An engine for this thread, closed at the end of the test."""
        return self.engine(self._stack.enter_context(self._store()))

    def meanwhile(self, work: Callable[[Engine], object]) -> Meanwhile:
        """*work* done in a thread by an engine of its own, started now."""

        def run() -> None:
            with self._store() as store:
                work(self.engine(store))

        return Meanwhile(run)


@pytest.fixture
def make(sql_database: Database, per_debtor: Policy) -> Iterator[Writers]:
    with ExitStack() as stack:
        yield Writers(sql_database.connect, stack, per_debtor)


@pytest.fixture
def pg(postgres_database: Database, per_debtor: Policy) -> Iterator[Writers]:
    with ExitStack() as stack:
        yield Writers(postgres_database.connect, stack, per_debtor)


def sms_today(engine: Engine, debtor_loans: list[str]) -> list[tuple[str, str]]:
    """The SMS journaled as delivered to the debtor, by loan and actor."""
    return [
        (case_id, entry.data["actor"])
        for case_id in debtor_loans
        for entry in engine.history(case_id)
        if entry.kind == "interaction"
        and entry.data["channel"] == "sms"
        and entry.data["outcome"] != "failed"
    ]


def tick_while_an_agent_records_an_sms(make: Writers, batch: int) -> None:
    """An agent records an SMS sent by hand on the debtor's loan L-2 and keeps the unit
    of work open while a tick reviews the debtor's loans: the tick's batch waits for
    it, reads it, and its rule allows the debtor no second SMS today."""
    first = make()
    first.open_cases([loan("L-1", "D-1"), loan("L-2", "D-1")], at=START - timedelta(hours=1))
    first.store.schedule("L-2", START + timedelta(days=1))  # only L-1 is due now
    with first.atomic():
        first.record_interaction("L-2", "sms", "delivered", at=START + timedelta(minutes=1))
        with make.meanwhile(lambda second: second.tick(START, batch=batch)) as ticking:
            pass
    ticking.join()
    reader = make()
    assert sms_today(reader, ["L-1", "L-2"]) == [("L-2", "system")]
    assert make.sent == []
    [denied] = [entry for entry in reader.history("L-1") if entry.kind == "contact_denied"]
    assert [reason["rule"] for reason in denied.data["reasons"]] == ["POLICY-PER-DEBTOR-1"]


def test_a_tick_waits_for_a_contact_being_recorded_on_the_debtors_other_loan(
    make: Writers,
) -> None:
    tick_while_an_agent_records_an_sms(make, batch=500)


def test_a_batch_of_more_debtors_than_are_locked_one_by_one_waits_too(
    pg: Writers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above `_LOCKED_AT_ONCE` debtors, the batch locks every debtor at once: it still
    waits for the write in progress before it reads what is on file (`latest_entries`)."""
    monkeypatch.setattr("arrears.tick._LOCKED_AT_ONCE", 0)
    tick_while_an_agent_records_an_sms(pg, batch=500)


def test_a_bulk_open_in_a_unit_of_work_holding_a_debtor_does_not_deadlock(pg: Writers) -> None:
    """Two writers each add a bankruptcy on their own debtor, then open loans of new debtors
    in bulk in the same unit of work: neither waits for the other's lock on every
    debtor while holding its own debtor (the deadlock PostgreSQL used to break)."""
    first = pg()
    first.open_case(loan("L-1", "D-1"))
    first.open_case(loan("L-2", "D-2"))
    both = threading.Barrier(2, timeout=10)

    def work(engine: Engine, own: str, prefix: str) -> None:
        with engine.atomic():
            engine.add_hold(own, "bankruptcy", "chapter 7 petition")
            both.wait()
            engine.open_cases(
                [loan(f"{prefix}-{n}", f"{prefix}-D-{n}") for n in range(3)],
                at=START,
            )

    with pg.meanwhile(lambda second: work(second, "L-2", "B")) as other:
        work(first, "L-1", "A")
    other.join()
    reader = pg()
    assert len(reader.store) == 8
    assert [str(hold.kind) for hold in reader.case("L-1").holds] == ["bankruptcy"]


def test_debtors_locked_in_opposite_orders_conflict_at_once_without_a_deadlock(
    pg: Writers,
) -> None:
    """Two units of work write on two debtors in opposite orders.  The one asking for a
    debtor before the highest it holds only tries it: it ends as a conflict at once
    (SQLSTATE ``55P03``), and the other commits; PostgreSQL never sees a circle."""
    first = pg()
    first.open_case(loan("L-1", "D-1"))
    first.open_case(loan("L-2", "D-2"))
    both = threading.Barrier(2, timeout=10)
    errors: dict[str, ConcurrencyConflict] = {}

    def work(engine: Engine, name: str, one: str, other: str) -> None:
        try:
            with engine.atomic():
                engine.add_hold(one, "bankruptcy", "chapter 7 petition")
                both.wait()
                engine.add_hold(other, "bankruptcy", "chapter 7 petition")
        except ConcurrencyConflict as err:
            errors[name] = err

    started = time.monotonic()
    with pg.meanwhile(lambda second: work(second, "second", "L-2", "L-1")) as other:
        work(first, "first", "L-1", "L-2")
    other.join()
    assert time.monotonic() - started < 5
    assert [error.sqlstate for error in errors.values()] == ["55P03"], errors
    reader = pg()
    winner = "first" if "second" in errors else "second"
    kinds = {case_id: len(reader.case(case_id).holds) for case_id in ("L-1", "L-2")}
    assert kinds == {"L-1": 1, "L-2": 1}, (winner, kinds)


def held(url: str, schema: str, *debtors: str) -> list[str]:
    """Which of the locks on every debtor of *schema* (``""``) and on *debtors* any
    session holds (the database is shared: other schemas' locks are left out)."""
    import psycopg

    from arrears.stores.postgres import _DEBTOR_SPACE, _EVERY_DEBTOR_SPACE, _debtor_key

    wanted = {
        (
            _EVERY_DEBTOR_SPACE if debtor == "" else _DEBTOR_SPACE,
            _debtor_key(schema, debtor),
        ): debtor
        for debtor in ("", *debtors)
    }
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT classid::bigint, objid::bigint FROM pg_locks "
            "WHERE locktype = 'advisory' AND objsubid = 2 AND granted"
        ).fetchall()
    found = {(space, key - (1 << 32) if key >= 1 << 31 else key) for space, key in rows}
    return sorted(debtor for lock, debtor in wanted.items() if lock in found)


def test_every_write_holds_its_debtor_until_it_commits(pg: Writers) -> None:
    """A contact recorded holds the debtor's lock (the lock on every debtor shared, and
    the debtor's) until its unit of work ends, as the tick's batch does."""
    url = postgres_url()
    first = pg()
    first.open_case(loan("L-1", "D-1"))
    schema = first.store.schema  # type: ignore[attr-defined]
    assert held(url, schema, "D-1") == []
    with first.atomic():
        first.record_interaction("L-1", "call", "no_answer")
        first.store.latest_entries(["D-1"])  # type: ignore[attr-defined]  # a statement
        assert held(url, schema, "D-1") == ["", "D-1"]
    assert held(url, schema, "D-1") == []
    assert run_sql(url, schema, "SELECT count(*) FROM journal")[0][0] == 2


@pytest.mark.parametrize("reference", [None, "BANK-7"])
def test_a_payment_holds_its_debtor_before_it_reads_anything_but_the_case(
    make: Writers, reference: str | None
) -> None:
    """A payment, with a reference or without, asks for its debtor's lock before it reads
    the case's journal or the debtor's other loans: what another writer committed before
    the lock is read, not missed (the payment read nothing of the debtor's until then)."""
    engine = make()
    engine.open_case(loan("L-1", "D-1"))
    engine.open_case(loan("L-2", "D-1"))
    store = engine.store
    calls: list[str] = []
    names = ("lock_debtors", "lock_debtors_now", "last_entry", "entries", "head", "cases_of")
    for name in names:
        method = getattr(store, name, None)
        if method is None:
            continue

        def spy(*args: Any, _name: str = name, _method: Any = method, **kwargs: Any) -> Any:
            calls.append(_name)
            return _method(*args, **kwargs)

        setattr(store, name, spy)
    with engine.atomic():
        engine.record_payment("L-1", cny_amount("100.00"), reference=reference)
    assert calls[0] in ("lock_debtors", "lock_debtors_now"), calls
    paid = store.get("L-1").balance.principal  # type: ignore[attr-defined]
    assert str(paid) == "900.00"


def cny_amount(value: str) -> Any:
    from arrears.money import Money

    return Money(value, "CNY")
