"""Two writers on one debtor at once: a debtor-wide hold and a case opened meanwhile,
two tasks asked for on two loans of the debtor, a task closed as another loan joins it.

Each test holds one writer's unit of work open at the point that matters while
the other writer, on its own connection (its own store), runs in a thread; the
first then commits.  Before the debtor lock the second writer did not wait, read
the debtor's cases as they stood, and missed what the first wrote.  On
PostgreSQL the lock is an advisory lock on the debtor; SQLite's transactions
(``BEGIN IMMEDIATE``) exclude each other already: the same tests hold there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import Database
from arrears import Engine, SettableClock
from arrears.policy import TaskAction

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 10, 14, 9, 30, tzinfo=SHANGHAI)
CALL = TaskAction(kind="call", queue="phone-team", priority=3, due_hours=24)
#: How long the second writer is given to finish (or to be seen waiting) before the first
#: commits: without the lock it finishes at once.
HEAD_START = 1.5


def loan(number: int, debtor: str = "D-1") -> dict[str, Any]:
    return {
        "id": f"L-{number}",
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "contacts": [{"id": "m", "channel": "call", "address": "+8613812345678"}],
        "balance": {"currency": "CNY", "principal": f"{number}000.00"},
        "due_date": "2026-08-01",
        "stage": "phone",
    }


class Writers:
    """Engines on one database, each with a store (a connection) of its own."""

    def __init__(self, store: Callable[[], Any], stack: ExitStack) -> None:
        self._store = store
        self._stack = stack

    def __call__(self) -> Engine:
        """An engine for this thread, closed at the end of the test."""
        return Engine(store=self._stack.enter_context(self._store()), clock=SettableClock(T0))

    def meanwhile(self, work: Callable[[Engine], object]) -> Meanwhile:
        """*work* done in a thread by an engine of its own (closed there: a SQLite
        connection belongs to the thread that made it)."""

        def run() -> None:
            with self._store() as store:
                work(Engine(store=store, clock=SettableClock(T0)))

        return Meanwhile(run)


@pytest.fixture
def make(sql_database: Database) -> Iterator[Writers]:
    with ExitStack() as stack:
        yield Writers(sql_database.connect, stack)


class Meanwhile:
    """Run *work* in a thread while the caller holds a unit of work open."""

    def __init__(self, work: Callable[[], object]) -> None:
        self.error: BaseException | None = None
        self.done = threading.Event()

        def run() -> None:
            try:
                work()
            except BaseException as err:  # reported by the test
                self.error = err
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)

    def __enter__(self) -> Meanwhile:
        self.thread.start()
        self.done.wait(HEAD_START)  # done at once without a lock; waiting with one
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def join(self) -> None:
        self.thread.join(60)
        assert not self.thread.is_alive(), "the second writer never finished"
        if self.error is not None:
            raise self.error


def hold_kinds(engine: Engine, case_id: str) -> list[str]:
    return [str(hold.kind) for hold in engine.case(case_id).holds]


def test_a_case_opened_while_a_bankruptcy_is_added_holds_it(make: Writers) -> None:
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))
    with first.atomic():
        first.add_hold("L-1", "bankruptcy", "chapter 7 petition")
        with make.meanwhile(lambda second: second.open_case(loan(3))) as opening:
            pass
    opening.join()
    assert hold_kinds(make(), "L-3") == ["bankruptcy"]
    assert [entry.kind for entry in make().history("L-3")] == ["opened", "hold_added"]


def test_a_bankruptcy_added_while_a_case_opens_reaches_it(make: Writers) -> None:
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))
    with first.atomic():
        first.open_case(loan(3))
        with make.meanwhile(
            lambda second: second.add_hold("L-1", "bankruptcy", "petition")
        ) as adding:
            pass
    adding.join()
    reader = make()
    assert {case_id: hold_kinds(reader, case_id) for case_id in ("L-1", "L-2", "L-3")} == {
        "L-1": ["bankruptcy"],
        "L-2": ["bankruptcy"],
        "L-3": ["bankruptcy"],
    }


def test_a_move_recorded_while_a_case_opens_reaches_it(make: Writers) -> None:
    """The debtor moves to Shanghai while another writer opens their third loan: the move
    waits for the opening to commit, then changes all three loans."""
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))
    with first.atomic():
        first.open_case(loan(3))
        with make.meanwhile(
            lambda second: second.update_debtor("D-1", residence="CN-SH")
        ) as moving:
            pass
    moving.join()
    reader = make()
    assert [reader.case(f"L-{number}").debtor.residence for number in (1, 2, 3)] == [
        "CN-SH",
        "CN-SH",
        "CN-SH",
    ]
    assert [entry.kind for entry in reader.history("L-3")] == ["opened", "debtor_changed"]


def test_a_bulk_open_holds_every_debtor_until_it_commits(make: Writers) -> None:
    """Opening many cases in one unit of work holds every debtor (one lock, not one
    a debtor) until it commits."""
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))
    others = [loan(100 + number, debtor=f"D-{100 + number}") for number in range(5)]
    with first.atomic():
        first.open_cases([*others, loan(3)])
        with make.meanwhile(
            lambda second: second.add_hold("L-1", "bankruptcy", "petition")
        ) as adding:
            pass
    adding.join()
    assert hold_kinds(make(), "L-3") == ["bankruptcy"]
    assert hold_kinds(make(), "L-100") == []


def test_two_loans_asking_for_a_task_at_once_get_one_task(make: Writers) -> None:
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))

    def ask(second: Engine) -> None:
        with second.atomic():
            second.case("L-1")  # read in this unit of work before the other commits
            second.open_task("L-2", CALL, key="k-2", step="call")

    with first.atomic():
        first.open_task("L-1", CALL, key="k-1", step="call")
        with make.meanwhile(ask) as asking:
            pass
    asking.join()
    [task] = make().tasks()
    assert (task.id, task.cases) == ("k-1", ("L-1", "L-2"))


def test_a_task_closed_while_another_loan_joins_it_is_closed_on_both(make: Writers) -> None:
    first = make()
    for number in (1, 2):
        first.open_case(loan(number))
    first.open_task("L-1", CALL, key="k-1", step="call")
    with first.atomic():
        first.open_task("L-2", CALL, key="k-2", step="call")  # covered by k-1
        with make.meanwhile(lambda second: second.complete_task("L-1", "k-1", "done")) as closing:
            pass
    closing.join()
    reader = make()
    assert reader.tasks() == []
    assert [task.id for task in reader.case("L-2").tasks] == []
