"""Two processes writing one debtor's loans at once: holds that reach the debtor, tasks
that cover the debtor's loans (SQLite file and PostgreSQL).

Each test runs two writers as processes of their own (`_debtor_race_worker`) on
one database.  The first stops at a point that matters (`_debtor_race_worker`'s
*PAUSE*) and is held there while the second runs:

``lock``
    the first has read the loan it was called on (to learn its debtor), not yet
    taken the debtor's lock.  On PostgreSQL the second runs to its commit
    meanwhile; on SQLite (``BEGIN IMMEDIATE``) it waits, as every writer does.
    The first must then decide on the loans as the second left them, not on its
    copy read before the lock.
``commit``
    the first has written everything and holds the debtor: the second waits for
    it on both stores, then decides on what the first committed.

Then the first goes on, both finish, and a third engine reads what is stored:
every outcome is one the two calls made one after the other could give, and
the journal verifies (`Engine.verify`, the checks across a debtor's chains
included).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from _postgres import Database
from arrears import Engine, SettableClock
from test_debtor_races import CALL, T0, loan

WORKER = Path(__file__).resolve().parent / "_debtor_race_worker.py"
#: How long the second writer is watched while the first is held, where it must wait
#: for it (one that does not wait reports in a fraction of that; one expected through is
#: given all the patience it needs instead, so a slow machine fails nothing).
HELD_BACK = 0.75
#: The most any step of a worker may take (a process start included).
PATIENCE = 60.0
#: The moment the loans are opened; the writers' clocks are later.
OPENED = T0 - timedelta(hours=3)
TASK = {"kind": CALL.kind, "queue": CALL.queue, "priority": CALL.priority, "due_hours": 24}


@pytest.fixture
def database(sql_database: Database) -> Database:
    """The database both writers open: an SQLite file, or a PostgreSQL schema of its own."""
    return sql_database


def engine(database: Database, now: datetime = T0) -> Engine:
    """An engine of this process on the store (closed when the test is done)."""
    return Engine(store=database.open(), clock=SettableClock(now))


@contextmanager
def stored(database: Database) -> Iterator[Engine]:
    """A fresh engine to read what the writers left (an hour after they wrote); once the
    caller has read it, the journal must verify."""
    reader = engine(database, T0 + timedelta(hours=4))
    yield reader
    assert reader.verify() == []


class Writer:
    """One worker process: started at once, told when to go on, its report read."""

    def __init__(self, database: Database, pause: str, op: str, *args: Any, **kwargs: Any) -> None:
        clock = kwargs.pop("clock", T0)
        call = {"op": op, "args": list(args), "kwargs": kwargs, "clock": clock.isoformat()}
        where = [database.target, database.schema or "-", pause]
        self.process = subprocess.Popen(
            [sys.executable, str(WORKER), *where, json.dumps(call)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.strip())
        self._lines.put("")  # the process ended

    def expect(self, wanted: str) -> None:
        """Wait for the line *wanted* (``ready``, ``paused``)."""
        line = self.next(PATIENCE)
        assert line == wanted, f"expected {wanted!r}, got {line!r}: {self.errors()}"

    def next(self, timeout: float) -> str | None:
        """The next line, or ``None`` if none comes within *timeout* seconds."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def send(self) -> None:
        """Tell the worker to go on (a line on its standard input)."""
        assert self.process.stdin is not None
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def report(self, timeout: float = PATIENCE) -> dict[str, Any] | None:
        """The worker's report, or ``None`` if it is not done within *timeout* seconds."""
        line = self.next(timeout)
        if line is None:
            return None
        assert line.startswith("{"), f"unexpected {line!r}: {self.errors()}"
        found: dict[str, Any] = json.loads(line)
        return found

    def errors(self) -> str:
        if self.process.poll() is None:
            return "(still running)"
        assert self.process.stderr is not None
        return self.process.stderr.read()[-2000:]

    def close(self) -> None:
        process = self.process
        if process.poll() is None:
            process.kill()
        process.wait(PATIENCE)
        self._reader.join(PATIENCE)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


class Race:
    """What happened: each writer's report, and whether the second was done while the
    first was held."""

    def __init__(self, first: dict[str, Any], second: dict[str, Any], second_early: bool) -> None:
        self.first = first
        self.second = second
        self.second_early = second_early

    @property
    def reports(self) -> list[dict[str, Any]]:
        return [self.first, self.second]


def race(database: Database, pause: str, first: tuple[Any, ...], second: tuple[Any, ...]) -> Race:
    """Run *first* (a `Writer`'s op, arguments and keywords) held at *pause* while
    *second* runs; then let the first go on."""
    one = Writer(database, pause, *first[:-1], **first[-1])
    two = Writer(database, "none", *second[:-1], **second[-1])
    try:
        one.expect("ready")
        two.expect("ready")
        one.send()
        one.expect("paused")
        two.send()
        through = pause == "lock" and database.kind == "postgres"
        early = two.report(PATIENCE if through else HELD_BACK)
        one.send()
        first_report = one.report()
        assert first_report is not None, f"the first writer never finished: {one.errors()}"
        second_report = early if early is not None else two.report()
        assert second_report is not None, f"the second writer never finished: {two.errors()}"
    finally:
        one.close()
        two.close()
    result = Race(first_report, second_report, early is not None)
    # The interleaving is the one meant: held before its lock, the first lets a
    # PostgreSQL writer through (SQLite's transaction excludes it); held with the
    # debtor, it lets none through.
    assert result.second_early == through
    return result


def setup(database: Database, *loans: int) -> Engine:
    """The debtor's loans opened, by an engine of this process."""
    opener = engine(database, OPENED)
    opener.open_cases([loan(number) for number in loans], at=OPENED)
    return opener


def kinds(engine: Engine, case_id: str) -> list[str]:
    return [entry.kind for entry in engine.history(case_id)]


def refused(report: dict[str, Any], field: str) -> bool:
    return report == {"ok": False, "error": "InvalidInput", "field": field}


OK = {"ok": True, "error": None, "field": None}
#: Where the first writer is held: before its lock (a PostgreSQL rival gets through and
#: commits first: the race the re-read after the lock is for) and, for the race that
#: found a defect, also holding the debtor (the rival must wait for its commit; the
#: same waiting is tested, in threads, for opens, holds and tasks in test_debtor_races).
PAUSES = pytest.mark.parametrize("pause", ["lock", "commit"])
BEFORE_LOCK = pytest.mark.parametrize("pause", ["lock"])


class TestHolds:
    """A hold that reaches the debtor is on every loan of theirs, once, and leaves every
    loan together."""

    def debtor_dispute(self, database: Database, *loans: int) -> str:
        engine = setup(database, *loans)
        hold = engine.add_hold("L-1", "dispute", "disputes every loan", reach="debtor", at=OPENED)
        return hold.id

    @PAUSES
    def test_one_hold_released_on_two_loans_at_once_is_released_once(
        self, database: Database, pause: str
    ) -> None:
        """Two agents release the debtor's dispute at once, one from each loan: it is
        released once, on both loans at the same moment; the other release is refused
        (the hold is no longer active), not journaled again at its own later moment."""
        hold = self.debtor_dispute(database, 1, 2)
        early, late = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
        result = race(
            database,
            pause,
            ("release_hold", "L-1", hold, {"at": late.isoformat(), "clock": late}),
            ("release_hold", "L-2", hold, {"at": early.isoformat(), "clock": late}),
        )
        if result.second_early:  # released from L-2 first: no longer active for the first
            assert result.second == OK
            assert refused(result.first, "hold_id"), result.first
        else:  # released from L-1 first, later than the second asks
            assert result.first == OK
            assert refused(result.second, "at"), result.second
        with stored(database) as reader:
            moment = early if result.second_early else late
            for case_id in ("L-1", "L-2"):
                assert kinds(reader, case_id).count("hold_released") == 1, case_id
                [held] = reader.case(case_id).holds
                assert held.released_at == moment, case_id

    @BEFORE_LOCK
    def test_a_hold_released_while_a_loan_opens_is_released_on_it_too(
        self, database: Database, pause: str
    ) -> None:
        """The debtor's dispute is released from L-1 while another process opens L-3:
        L-3 either never held it (opened after the release) or holds it released at
        the same moment as the others; no loan is left held."""
        hold = self.debtor_dispute(database, 1, 2)
        release = T0 + timedelta(hours=1)
        result = race(
            database,
            pause,
            ("release_hold", "L-1", hold, {"at": release.isoformat(), "clock": release}),
            ("open_case", loan(3), {"at": release.isoformat(), "clock": release}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            inherited = result.second_early  # L-3 was opened before the release
            assert kinds(reader, "L-3") == (
                ["opened", "hold_added", "hold_released"] if inherited else ["opened"]
            )
            for case_id in ("L-1", "L-2", "L-3"):
                assert all(held.released_at == release for held in reader.case(case_id).holds)

    @BEFORE_LOCK
    @pytest.mark.parametrize("held", ["bankruptcy", "opening"])
    def test_a_bankruptcy_added_while_a_loan_opens_reaches_it(
        self, database: Database, pause: str, held: str
    ) -> None:
        """A bankruptcy is added on L-1 while another process opens L-3, either one the
        writer held: L-3 holds it, once (inherited when opened after it, placed when
        opened before)."""
        setup(database, 1, 2)
        bankruptcy = ("add_hold", "L-1", "bankruptcy", "chapter 7 petition", {"clock": T0})
        opening = ("open_case", loan(3), {"clock": T0})
        first, second = (bankruptcy, opening) if held == "bankruptcy" else (opening, bankruptcy)
        result = race(database, pause, first, second)
        assert result.reports == [OK, OK]
        self.assert_bankrupt(database, ("L-1", "L-2", "L-3"))

    @BEFORE_LOCK
    def test_two_bankruptcies_added_at_once_are_two_holds_on_every_loan(
        self, database: Database, pause: str
    ) -> None:
        """Two agents record the debtor's bankruptcy at once, one on each loan: two holds,
        each on both loans under one id of its own (never one id for two holds)."""
        setup(database, 1, 2)
        result = race(
            database,
            pause,
            ("add_hold", "L-1", "bankruptcy", "petition filed", {"clock": T0}),
            ("add_hold", "L-2", "bankruptcy", "court notice", {"clock": T0}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            ids = {}
            for case_id in ("L-1", "L-2"):
                holds = reader.case(case_id).holds
                ids[case_id] = sorted(held.id for held in holds)
                assert sorted(held.reason for held in holds) == ["court notice", "petition filed"]
            assert ids["L-1"] == ids["L-2"]
            assert len(set(ids["L-1"])) == 2

    @BEFORE_LOCK
    def test_a_bankruptcy_added_while_a_dispute_is_released(
        self, database: Database, pause: str
    ) -> None:
        """A bankruptcy is added on L-1 while another agent releases the debtor's dispute
        from L-2: both loans hold the bankruptcy, and the dispute released."""
        hold = self.debtor_dispute(database, 1, 2)
        result = race(
            database,
            pause,
            ("add_hold", "L-1", "bankruptcy", "petition", {"clock": T0}),
            ("release_hold", "L-2", hold, {"clock": T0}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            for case_id in ("L-1", "L-2"):
                held = {str(item.kind): item for item in reader.case(case_id).holds}
                assert sorted(held) == ["bankruptcy", "dispute"]
                assert held["dispute"].released_at == T0
                assert held["bankruptcy"].released_at is None

    @BEFORE_LOCK
    def test_a_bankruptcy_added_while_a_task_on_both_loans_is_completed(
        self, database: Database, pause: str
    ) -> None:
        """A bankruptcy is added on L-1 while another agent completes, from L-2, the call
        covering both loans: both loans hold the bankruptcy, and the call is closed on both."""
        engine = setup(database, 1, 2)
        engine.open_task("L-1", CALL, key="k-1", step="call", at=OPENED)
        engine.open_task("L-2", CALL, key="k-2", step="call", at=OPENED)
        result = race(
            database,
            pause,
            ("add_hold", "L-1", "bankruptcy", "petition", {"clock": T0}),
            ("complete_task", "L-2", "k-1", "done", {"clock": T0}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            assert reader.tasks() == []
            for case_id in ("L-1", "L-2"):
                assert [str(held.kind) for held in reader.case(case_id).holds] == ["bankruptcy"]
                assert kinds(reader, case_id).count("task_closed") == 1, case_id

    @staticmethod
    def assert_bankrupt(database: Database, loans: tuple[str, ...]) -> None:
        with stored(database) as reader:
            for case_id in loans:
                holds = reader.case(case_id).holds
                assert [str(held.kind) for held in holds] == ["bankruptcy"], case_id
                assert kinds(reader, case_id).count("hold_added") == 1, case_id


class TestTasks:
    """A task for a person is opened once per debtor, and closed on every loan it covers."""

    @BEFORE_LOCK
    def test_two_loans_asking_for_a_task_at_once_get_one_task(
        self, database: Database, pause: str
    ) -> None:
        """Two loans of the debtor ask for the same call at once: one task covers both."""
        setup(database, 1, 2)
        result = race(
            database,
            pause,
            ("open_task", "L-1", TASK, {"key": "k-1", "step": "call"}),
            ("open_task", "L-2", TASK, {"key": "k-2", "step": "call"}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            [task] = reader.tasks()
            if result.second_early:  # opened on L-2, L-1 brought under it
                assert (task.id, task.cases) == ("k-2", ("L-2", "L-1"))
            else:
                assert (task.id, task.cases) == ("k-1", ("L-1", "L-2"))

    @BEFORE_LOCK
    def test_one_loan_asked_for_the_same_task_twice_at_once_opens_it_once(
        self, database: Database, pause: str
    ) -> None:
        """A host sends the same task twice at once (a retry after a timeout): one entry."""
        setup(database, 1, 2)
        call = ("open_task", "L-1", TASK, {"key": "k-1", "step": "call"})
        result = race(database, pause, call, call)
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            assert kinds(reader, "L-1") == ["opened", "task_opened"]
            assert [(task.id, task.cases) for task in reader.tasks()] == [("k-1", ("L-1",))]

    @BEFORE_LOCK
    def test_a_task_closed_while_another_loan_joins_it(
        self, database: Database, pause: str
    ) -> None:
        """The call is completed from L-1 while L-2 asks for the same work: L-2 is either
        brought under it and closed with it, or given a task of its own after it closed;
        never left holding the closed task."""
        engine = setup(database, 1, 2)
        engine.open_task("L-1", CALL, key="k-1", step="call", at=OPENED)
        result = race(
            database,
            pause,
            ("complete_task", "L-1", "k-1", "done", {}),
            ("open_task", "L-2", TASK, {"key": "k-2", "step": "call"}),
        )
        assert result.reports == [OK, OK]
        with stored(database) as reader:
            if result.second_early:  # covered, then closed on both
                assert reader.tasks() == []
                assert kinds(reader, "L-2") == ["opened", "task_covered", "task_closed"]
            else:
                assert [(task.id, task.cases) for task in reader.tasks()] == [("k-2", ("L-2",))]

    @BEFORE_LOCK
    def test_one_task_completed_from_two_loans_at_once_is_closed_once(
        self, database: Database, pause: str
    ) -> None:
        """Two agents complete the call covering both loans at once, one from each: it is
        closed once on each loan; the other completion is refused."""
        engine = setup(database, 1, 2)
        engine.open_task("L-1", CALL, key="k-1", step="call", at=OPENED)
        engine.open_task("L-2", CALL, key="k-2", step="call", at=OPENED)
        result = race(
            database,
            pause,
            ("complete_task", "L-1", "k-1", "done", {}),
            ("complete_task", "L-2", "k-1", "done", {}),
        )
        outcomes = sorted(json.dumps(report) for report in result.reports)
        assert [json.loads(text) for text in outcomes] == [
            {"ok": False, "error": "InvalidInput", "field": "task_id"},
            OK,
        ]
        with stored(database) as reader:
            assert reader.tasks() == []
            for case_id in ("L-1", "L-2"):
                assert kinds(reader, case_id).count("task_closed") == 1, case_id
