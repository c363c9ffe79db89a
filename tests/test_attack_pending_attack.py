"""Defects found by attacking the library, each a failing reproduction until it is fixed.

Each test is marked ``xfail(strict=True)``: it fails today for the reason given,
and the mark must go with the fix (a strict xfail that passes fails the run).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Balance, Case, Channel, ContactPoint, Debtor, Engine, SettableClock
from arrears.events import apply_entry
from arrears.journal import seal
from arrears.stores import SQLiteStore

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)


def _case(case_id: str, debtor: str = "D-1", principal: str = "5000.00") -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=debtor, timezone=ZoneInfo("Asia/Shanghai")),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal=principal, penalty="50.00"),
        due_date=date(2026, 8, 1),
    )


def _append_as_the_application(engine: Engine, case_id: str, kind: str, data: Any) -> None:
    """What the application's database role can do (journal: ``SELECT, INSERT``; cases:
    ``UPDATE``): append one entry sealed on the chain's head and save the case as its
    replay stands after it."""
    last = engine.store.last_entry(case_id)
    case = engine.store.get(case_id)
    at = max(last.at + timedelta(minutes=1), engine.clock.now())
    apply_entry(case, kind, at, data)
    engine.store.append(seal(case_id, last.seq + 1, at, kind, data, last.hash), case)


# -- (b) forged records `verify` accepts --------------------------------------------------


# -- the review schedule ------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="verify reports an open case with no review row, or leased years ahead, but not "
    "one whose review_at was pushed years ahead: it is skipped by every tick until then "
    "(operations/evidence.py checks next_review is None, never its time against the journal)",
)
def test_a_review_pushed_years_ahead_is_unscheduled(tmp_path: Path) -> None:
    path = tmp_path / "arrears.db"
    with SQLiteStore(path) as store:
        Engine(store=store, clock=SettableClock(START)).open_case(_case("LN-1"))
    far = int((datetime(2036, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds())
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE reviews SET review_at = {far * 1_000_000} WHERE case_id = 'LN-1'")
    later = START + timedelta(days=1)
    with SQLiteStore(path) as store:
        engine = Engine(store=store, clock=SettableClock(later))
        assert store.due(later, 10) == []  # never reviewed before 2036
        assert [(p.case_id, p.problem) for p in engine.verify()] == [("LN-1", "unscheduled")]


# -- the same on PostgreSQL ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="PostgreSQL as SQLite: a review_at pushed years ahead is not unscheduled "
    "(operations/evidence.py only asks whether a review row exists and its lease)",
)
def test_postgres_a_review_pushed_years_ahead_is_unscheduled() -> None:
    from _postgres import run_sql, store_maker

    with store_maker() as (make, url, schema):
        Engine(store=make(), clock=SettableClock(START)).open_case(_case("LN-1"))
        run_sql(url, schema, "UPDATE reviews SET review_at = '2036-01-01T00:00:00+00'")
        later = START + timedelta(days=1)
        store = make()
        engine = Engine(store=store, clock=SettableClock(later))
        assert store.due(later, 10) == []  # never reviewed before 2036
        assert [(p.case_id, p.problem) for p in engine.verify()] == [("LN-1", "unscheduled")]
