"""A due date is a date: a time (even midnight) is refused, and so is one past `LATEST_DATE`,
for a case, a promise, a plan and a schedule alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from arrears import (
    Actor,
    Case,
    Engine,
    Instalment,
    InvalidInput,
    Money,
    RepaymentPlan,
    SettableClock,
    instalment_schedule,
)
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
