"""A write across a debtor's loans that waits for the debtor's lock while another
writer records a later entry on one of the loans (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta

import pytest

from _postgres import Database
from arrears import Engine, InvalidInput, SettableClock
from arrears.policy import load_policy
from test_debtor_locks import CN_POLICY, START, Writers, loan


@pytest.fixture
def make(sql_database: Database) -> Iterator[Writers]:
    with ExitStack() as stack:
        yield Writers(sql_database.connect, stack, load_policy(CN_POLICY))


class RunningClock:
    """The time from *start* on, running ten times as fast as the wall clock (a worker's
    clock while it waits for a lock, whatever the machine's speed)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=10 * (time.monotonic() - self.began))


def test_a_hold_across_loans_that_waited_for_a_later_entry_is_recorded(make: Writers) -> None:
    """An agent adds a hold reaching the debtor on L-1 while another agent, whose clock
    read a little later, records a call on L-2 and commits first: the hold waits for
    the debtor's lock, then is recorded on both loans at its clock's time then, not
    refused for a time before L-2's last entry that the agent never gave."""
    first = make()
    first.open_cases([loan("L-1", "D-1"), loan("L-2", "D-1")], at=START - timedelta(hours=1))
    now = START + timedelta(minutes=5)
    call = now + timedelta(seconds=8)  # the other agent's clock, read later
    clock = RunningClock(now)

    def hold(second: Engine) -> None:
        agent = Engine(policy=make.policy, store=second.store, clock=clock)
        agent.add_hold("L-1", "dispute", "the debtor disputes both loans", reach="debtor")

    with first.atomic():
        first.record_interaction("L-2", "call", "no_answer", at=call)
        with make.meanwhile(hold) as holding:
            pass
    holding.join()
    reader = make()
    for case_id in ("L-1", "L-2"):
        assert [str(hold.kind) for hold in reader.case(case_id).holds] == ["dispute"]
    placed = [reader.history(case_id)[-1] for case_id in ("L-1", "L-2")]
    assert [entry.kind for entry in placed] == ["hold_added", "hold_added"]
    assert placed[0].at == placed[1].at > call
    assert reader.verify() == []


def test_a_time_given_before_a_loans_last_entry_is_still_refused(make: Writers) -> None:
    """A time the caller gave, or the clock's when it is before the last entry still,
    is refused as before: running the operation again would not change it."""
    engine = make()
    engine.open_cases([loan("L-1", "D-1"), loan("L-2", "D-1")], at=START - timedelta(hours=1))
    now = START + timedelta(minutes=5)
    engine.record_interaction("L-2", "call", "no_answer", at=now + timedelta(minutes=1))
    with pytest.raises(InvalidInput, match="last journal entry"):
        engine.add_hold("L-1", "dispute", "both loans", reach="debtor", at=now)
    fixed = Engine(policy=make.policy, store=engine.store, clock=SettableClock(now))
    with pytest.raises(InvalidInput, match="last journal entry"):
        fixed.add_hold("L-1", "dispute", "both loans", reach="debtor")
