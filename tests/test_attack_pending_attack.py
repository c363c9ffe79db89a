"""Defects found by attacking the library, each a failing reproduction until it is fixed.

Each test is marked ``xfail(strict=True)``: it fails today for the reason given,
and the mark must go with the fix (a strict xfail that passes fails the run).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
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


@pytest.mark.xfail(
    strict=True,
    reason="replay applies a payment's 'applied' as recorded, never checking it against its "
    "'amount' and 'credit': 1.00 paid clears 5,050.00 and verify finds nothing",
)
def test_a_payment_that_clears_more_than_its_amount_is_not_verified(engine: Engine) -> None:
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "1.00",
        "currency": "CNY",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "credit": "0.00",
        "reference": "bank-1",
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"  # the forgery took
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay never compares a payment's currency with the case's: 5,050.00 USD "
    "clears a CNY loan and verify finds nothing",
)
def test_a_payment_in_another_currency_is_not_verified(engine: Engine) -> None:
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "5050.00",
        "currency": "USD",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "credit": "0.00",
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay applies a waiver whatever it records: 5,050.00 waived under a recorded "
    "limit of 10.00 with no approver, an amount that is not what it takes off; verify "
    "finds nothing, though the engine refuses (and journals waiver_refused) such a waiver",
)
def test_a_waiver_beyond_its_own_recorded_limit_is_not_verified(engine: Engine) -> None:
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "1.00",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "basis": "actor",
        "limit": "10.00",
        "actor": "agent-1",
        "approver": None,
    }
    _append_as_the_application(engine, "LN-1", "waiver", forged)
    assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay applies an accrual whatever it charges: 4,000.00 of penalty on a case whose "
    "own terms cap penalty interest at 100.00 (and a second late fee past the fee cap) "
    "verifies clean, though accrue() never charges past the cap",
)
def test_an_accrual_beyond_the_cases_own_caps_is_not_verified(
    engine: Engine, clock: SettableClock
) -> None:
    opened = _case("LN-1").model_dump(mode="json")
    opened["terms"] = {
        "penalty_rate": "0.0005",
        "penalty_cap": "100.00 CNY",
        "late_fee": "20.00 CNY",
        "fee_cap": "20.00 CNY",
    }
    engine.open_case(opened)
    clock.advance(days=60)
    charged = engine.accrue("LN-1")
    assert charged is not None
    assert str(charged.penalty) == "100.00 CNY"  # the cap binds
    forged = {
        "penalty": "4000.00",
        "fee": "500.00",
        "days": 1,
        "frozen_days": 0,
        "through": clock.now().date().isoformat(),
        "late_fee_for": "2026-08-01",
    }
    _append_as_the_application(engine, "LN-1", "accrual", forged)
    # 50 + 100 + 4,000: the forgery took
    assert engine.case("LN-1").balance.penalty == Decimal("4150.00")
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 2)]


@pytest.mark.xfail(
    strict=True,
    reason="replay takes a hold_released's released_at as recorded; the engine always records "
    "the entry's own moment.  A release appended later but dated back to before a call "
    "made during a bankruptcy stay hides that the call was made under the stay",
)
def test_a_release_dated_back_before_a_call_under_the_hold_is_not_verified(
    engine: Engine, clock: SettableClock
) -> None:
    engine.open_case(_case("LN-1"))
    placed = clock.now()
    hold = engine.add_hold("LN-1", "bankruptcy", "stay filed")
    clock.advance(days=5)
    called = clock.now()
    engine.record_interaction("LN-1", "sms", "delivered", contact="mobile")
    assert [h.kind for h in engine.case("LN-1").active_holds(called)] == ["bankruptcy"]
    clock.advance(days=1)
    backdated = {
        "hold_id": hold.id,
        "released_at": (placed + timedelta(hours=1)).isoformat(),
        "actor": "system",
    }
    _append_as_the_application(engine, "LN-1", "hold_released", backdated)
    assert engine.case("LN-1").active_holds(called) == ()  # the call now looks clean
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 3)]


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


@pytest.mark.xfail(
    strict=True,
    reason="PostgreSQL as the memory store: a payment of 1.00 appended through the store "
    "(INSERT on the journal, UPDATE of the case, both the application role's grants) "
    "that clears 5,050.00 verifies clean",
)
def test_postgres_a_payment_that_clears_more_than_its_amount_is_not_verified() -> None:
    from _postgres import store_maker

    with store_maker() as (make, _url, _schema):
        writer = Engine(store=make(), clock=SettableClock(START))
        writer.open_case(_case("LN-1"))
        forged = {
            "amount": "1.00",
            "currency": "CNY",
            "applied": {"principal": "5000.00", "penalty": "50.00"},
            "credit": "0.00",
            "reference": "bank-1",
        }
        _append_as_the_application(writer, "LN-1", "payment", forged)
        engine = Engine(store=make(), clock=SettableClock(START + timedelta(days=1)))
        assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"
        assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]
