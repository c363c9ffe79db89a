"""A due date is a date: a time (even midnight) is refused, and so is one past `LATEST_DATE`,
for a case, a promise, a plan and a schedule alike."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

import arrears.case
import arrears.operations.agreements
import arrears.operations.charges
from arrears import (
    Actor,
    Case,
    Engine,
    Instalment,
    InvalidInput,
    JournalCorrupted,
    MemoryStore,
    Money,
    RepaymentPlan,
    SettableClock,
    instalment_schedule,
)
from arrears.case import beyond_latest
from arrears.limits import LATEST_DATE

BASE: dict[str, Any] = {
    "id": "LN-1",
    "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
    "balance": {"currency": "CNY", "principal": "1000.00"},
}


@pytest.mark.parametrize(
    "given",
    ["2026-09-01T00:00:00", "2026-09-01T00:00:00+08:00", "2026-09-01 00:00", datetime(2026, 9, 1)],
)
def test_a_time_is_not_a_due_date(given: object) -> None:
    with pytest.raises(ValidationError, match="expected a date, YYYY-MM-DD, not a time"):
        Case.model_validate({**BASE, "due_date": given})


@pytest.mark.parametrize("given", ["9999-12-31", date(3000, 1, 1)])
def test_a_due_date_past_the_bound_is_refused(given: object) -> None:
    with pytest.raises(ValidationError, match="no later than 2999-12-31"):
        Case.model_validate({**BASE, "due_date": given})


def test_the_bound_itself_and_a_plain_date_are_a_due_date() -> None:
    assert Case.model_validate({**BASE, "due_date": LATEST_DATE}).due_date == LATEST_DATE
    assert Case.model_validate({**BASE, "due_date": "2026-09-01"}).due_date == date(2026, 9, 1)


# -- promises and plans: the same bound ----------------------------------------------------


def _engine_with_a_notified_case() -> Engine:
    engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 1, 0, tzinfo=UTC)))
    engine.open_case(Case.model_validate({**BASE, "due_date": "2026-09-01"}))
    engine.fire("LN-1", "notify")
    return engine


def test_a_promise_due_after_the_latest_date_is_refused() -> None:
    # A promise running to 9999 would park the case in its promise stage for good.
    engine = _engine_with_a_notified_case()
    with pytest.raises(InvalidInput, match=r"due: got '9999-12-31'.*to 2999-12-31"):
        engine.record_promise("LN-1", Money("10.00", "CNY"), date(9999, 12, 31))
    with pytest.raises(InvalidInput, match="due: got '3000-01-01'"):
        engine.record_promise("LN-1", Money("10.00", "CNY"), date(3000, 1, 1))
    assert engine.case("LN-1").promise is None
    assert engine.record_promise("LN-1", Money("10.00", "CNY"), LATEST_DATE).due == LATEST_DATE


def test_a_schedule_ending_after_the_latest_date_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="first: got '9999-11-30'"):
        instalment_schedule(Money("300.00", "CNY"), date(9999, 11, 30), count=3)
    # Starting before the bound is not enough: the last date is what must stay within it.
    with pytest.raises(InvalidInput, match="a schedule ending by 2999-12-31"):
        instalment_schedule(Money("300.00", "CNY"), date(2999, 11, 30), count=3)
    parts = instalment_schedule(Money("300.00", "CNY"), date(2999, 10, 31), count=3)
    assert parts[-1].due == LATEST_DATE


def test_a_plan_ending_after_the_latest_date_is_refused() -> None:
    engine = _engine_with_a_notified_case()
    instalments = (
        Instalment(due=date(2026, 10, 15), amount=Money("500.00", "CNY")),
        Instalment(due=date(3000, 1, 1), amount=Money("500.00", "CNY")),
    )
    plan = RepaymentPlan(id="PLAN-1", kind="extension", instalments=instalments)
    with pytest.raises(InvalidInput, match="plan: got '3000-01-01'"):
        engine.start_plan("LN-1", plan, actor=Actor("agent-7", ("agent",)))
    assert engine.case("LN-1").plan is None


def test_an_instalment_falling_due_after_the_latest_date_is_refused() -> None:
    # With nothing overdue the instalment's date becomes the case's due date: one past the
    # bound was stored, and the case no longer read back from a database (CaseUnreadable).
    engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 1, 0, tzinfo=UTC)))
    engine.open_case(
        {**BASE, "balance": {"currency": "CNY", "not_due": "1000.00"}, "due_date": "2026-09-01"}
    )
    with pytest.raises(InvalidInput, match=r"due: got '9999-12-31'.*to 2999-12-31"):
        engine.fall_due("LN-1", Money("100.00", "CNY"), due=date(9999, 12, 31))
    assert engine.case("LN-1").balance.not_due == Money("1000.00", "CNY").amount
    assert [entry.kind for entry in engine.history("LN-1")] == ["opened"]
    engine.fall_due("LN-1", Money("100.00", "CNY"), due=LATEST_DATE)
    assert engine.case("LN-1").due_date == LATEST_DATE


def test_an_aging_date_after_the_latest_date_is_refused() -> None:
    # Paid from the oldest, each aging date becomes the case's due date in turn: one past
    # the bound was stored, and the case no longer read back from a database.
    engine = Engine(clock=SettableClock(datetime(2026, 10, 1, 1, 0, tzinfo=UTC)))
    aging = [["2026-09-01", "500.00"], ["9999-12-31", "500.00"]]
    with pytest.raises(InvalidInput, match=r"aging: .*dates no later than 2999-12-31"):
        engine.open_case({**BASE, "due_date": "2026-09-01", "aging": aging})
    assert "LN-1" not in engine.store
    aging[1][0] = LATEST_DATE.isoformat()
    engine.open_case({**BASE, "due_date": "2026-09-01", "aging": aging})
    engine.record_payment("LN-1", Money("500.00", "CNY"), reference="R-1")
    assert engine.case("LN-1").due_date == LATEST_DATE


# -- a due date past the bound already in a journal ---------------------------------------


T0 = datetime(2026, 10, 20, 14, 0, tzinfo=UTC)


def test_a_due_date_past_the_bound_written_by_an_older_engine_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Engine(store=MemoryStore(), clock=SettableClock(T0))
    engine.open_case(
        {
            "id": "L-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
            "balance": {"currency": "CNY", "not_due": "1000.00"},
            "due_date": "2026-07-01",
        },
        at=T0 - timedelta(days=1),
    )
    with monkeypatch.context() as older:
        older.setattr(arrears.operations.charges, "LATEST_DATE", date.max)
        engine.fall_due("L-1", Money("100.00", "CNY"), due=date(9999, 12, 31), at=T0)
    assert engine.case("L-1").due_date == date(9999, 12, 31)
    problems = engine.verify()
    assert [(p.case_id, p.position, p.problem) for p in problems] == [("L-1", 1, "beyond_limit")]
    assert problems[0].detail == (
        "seq 1: the instalment_due leaves due_date later than 2999-12-31 "
        "(arrears.limits.LATEST_DATE)"
    )
    exported = io.StringIO()
    engine.export_journal(exported)
    with pytest.raises(JournalCorrupted, match="instalment_due leaves due_date later than"):
        Engine.from_journal(exported.getvalue().splitlines(), clock=SettableClock(T0))


def test_an_opening_aging_date_past_the_bound_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The opening's own due date is checked as the snapshot reads (a Case); its aging's
    # later dates, which become the due date as the older are paid, are not: replay does.
    engine = Engine(store=MemoryStore(), clock=SettableClock(T0))
    aging = [["2026-09-01", "500.00"], ["9999-12-31", "500.00"]]
    with monkeypatch.context() as older:
        older.setattr(arrears.case, "LATEST_DATE", date.max)
        engine.open_case({**BASE, "due_date": "2026-09-01", "aging": aging}, at=T0)
    problems = engine.verify()
    assert [(p.case_id, p.position, p.problem) for p in problems] == [("LN-1", 0, "beyond_limit")]
    assert "the opened leaves aging later than 2999-12-31" in problems[0].detail
    with pytest.raises(JournalCorrupted, match="beyond_limit"):
        engine.replay("LN-1")


def test_a_promise_past_the_bound_written_by_an_older_engine_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _engine_with_a_notified_case()
    with monkeypatch.context() as older:
        older.setattr(arrears.operations.agreements, "LATEST_DATE", date.max)
        engine.record_promise("LN-1", Money("10.00", "CNY"), date(9999, 12, 31))
    problems = engine.verify()
    assert [(p.case_id, p.problem) for p in problems] == [("LN-1", "beyond_limit")]
    assert "the promise_made leaves promise later than 2999-12-31" in problems[0].detail


def test_due_dates_at_the_bound_are_within_it() -> None:
    case = Case.model_validate({**BASE, "due_date": LATEST_DATE})
    assert beyond_latest(case) is None
    late = Instalment(due=date(3000, 1, 1), amount=Money("10.00", "CNY"))
    plan = RepaymentPlan(id="PLAN-1", kind="extension", instalments=(late,))
    assert beyond_latest(case.model_copy(update={"plan": plan})) == "plan"
    aged = case.model_copy(update={"aging": ((LATEST_DATE, Decimal("1000.00")),)})
    assert beyond_latest(aged) is None
