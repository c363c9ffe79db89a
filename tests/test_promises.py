"""Promises to pay: recorded, counted, kept, partly kept, broken after grace, and replayed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from arrears import (
    CurrencyMismatch,
    Engine,
    Instalment,
    InvalidInput,
    Money,
    PromiseStatus,
    SettableClock,
)

#: 10:00 on 20 January 2027 in Shanghai.
START = datetime(2027, 1, 20, 2, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def loan(**overrides: Any) -> dict[str, Any]:
    """A CNY 12,000.00 loan, overdue since 31 December 2026, in the phone stage."""
    data: dict[str, Any] = {
        "id": "LN-12000",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
        "balance": {"currency": "CNY", "principal": "12000.00", "interest": "360.00"},
        "due_date": "2026-12-31",
        "stage": "phone",
    }
    data.update(overrides)
    return data


def shanghai(day: date, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* in Shanghai, as UTC."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def engine(clock: SettableClock) -> Engine:
    return Engine(clock=clock)


@pytest.fixture
def case_id(engine: Engine) -> str:
    return engine.open_case(loan()).id


def same(engine: Engine, case_id: str) -> None:
    assert engine.replay(case_id) == engine.case(case_id)


class TestRecordPromise:
    def test_the_scenario_call_form_records_and_moves_to_promise(
        self, engine: Engine, case_id: str
    ) -> None:
        """record_promise(case_id, amount, due, at=...) records it and fires ``promise``."""
        promise = engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 25), at=START)
        case = engine.case(case_id)
        assert case.stage == "promise"
        assert case.promise == promise
        assert promise.total == cny("2000.00")
        assert promise.due == date(2027, 1, 25)
        assert [e.kind for e in engine.history(case_id)[-2:]] == ["promise_made", "transition"]
        same(engine, case_id)

    def test_in_pre_due_the_promise_is_recorded_without_a_transition(self, engine: Engine) -> None:
        """Where the workflow has no ``promise`` edge the stage stays."""
        case_id = engine.open_case(loan(stage="pre_due")).id
        engine.record_promise(case_id, cny("500.00"), date(2027, 1, 25))
        assert engine.case(case_id).stage == "pre_due"
        assert engine.history(case_id)[-1].kind == "promise_made"

    def test_instalments_must_add_up(self, engine: Engine, case_id: str) -> None:
        """Several instalments sum to the amount and end on the due date."""
        parts = [(date(2027, 1, 25), cny("1000.00")), (date(2027, 2, 25), cny("1000.00"))]
        promise = engine.record_promise(
            case_id, cny("2000.00"), date(2027, 2, 25), instalments=parts
        )
        assert [p.due for p in promise.instalments] == [date(2027, 1, 25), date(2027, 2, 25)]
        length = len(engine.history(case_id))
        with pytest.raises(InvalidInput, match="instalments"):
            engine.record_promise(case_id, cny("2500.00"), date(2027, 2, 25), instalments=parts)
        assert len(engine.history(case_id)) == length

    @pytest.mark.parametrize(
        ("amount", "due", "field"),
        [
            (Money("100.00", "USD"), date(2027, 1, 25), "amount"),
            (cny("0.00"), date(2027, 1, 25), "amount"),
            (cny("99999.00"), date(2027, 1, 25), "amount"),
            (cny("100.00"), date(2027, 1, 19), "due"),
            (cny("100.00"), datetime(2027, 1, 25, tzinfo=UTC), "due"),
        ],
    )
    def test_bad_input_is_refused_before_anything_is_recorded(
        self, engine: Engine, case_id: str, amount: Money, due: date, field: str
    ) -> None:
        """A foreign, zero or excessive amount or a past due date raises, naming the field."""
        length = len(engine.history(case_id))
        with pytest.raises(InvalidInput) as caught:
            engine.record_promise(case_id, amount, due)
        assert caught.value.field == field
        assert isinstance(caught.value, CurrencyMismatch) == (amount.currency == "USD")
        assert len(engine.history(case_id)) == length

    def test_naive_time_is_refused(self, engine: Engine, case_id: str) -> None:
        """``at`` must be timezone-aware."""
        with pytest.raises(InvalidInput, match="at"):
            engine.record_promise(case_id, cny("1.00"), date(2027, 2, 1), at=datetime(2027, 1, 21))

    def test_a_new_promise_supersedes_the_open_one(self, engine: Engine, case_id: str) -> None:
        """The entry names the promise it replaces."""
        first = engine.record_promise(case_id, cny("500.00"), date(2027, 1, 25))
        second = engine.record_promise(case_id, cny("800.00"), date(2027, 1, 28))
        assert engine.history(case_id)[-1].data["supersedes"] == first.id
        assert engine.case(case_id).promise == second


class TestKept:
    def test_a_payment_before_the_date_counts_and_keeps_it(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """Payments made before the promise falls due add up; covering it fires promise_kept."""
        engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 30))
        clock.advance(days=2)
        engine.record_payment(case_id, cny("1200.00"))
        assert engine.case(case_id).promise.paid == 1200  # type: ignore[union-attr]
        assert engine.case(case_id).stage == "promise"
        clock.advance(days=2)
        engine.record_payment(case_id, cny("800.00"))
        case = engine.case(case_id)
        assert case.promise.status == PromiseStatus.KEPT  # type: ignore[union-attr]
        assert case.stage == "notified"  # promise_kept returns to the first contact stage
        assert case.arrears == cny("10360.00")
        same(engine, case_id)

    def test_clearing_the_arrears_keeps_it_and_cures(self, engine: Engine, case_id: str) -> None:
        """A payment of everything keeps the promise and the cure resolves the case."""
        engine.record_promise(case_id, cny("500.00"), date(2027, 1, 30))
        engine.record_payment(case_id, cny("12360.00"))
        case = engine.case(case_id)
        assert case.promise.status == PromiseStatus.KEPT  # type: ignore[union-attr]
        assert case.stage == "resolved"

    def test_a_kept_promise_reopens_when_its_payment_is_reversed(
        self, engine: Engine, case_id: str
    ) -> None:
        """The returned payment re-opens the promise and puts the case back in ``promise``."""
        engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 30))
        engine.record_payment(case_id, cny("2000.00"), reference="BANK-7")
        assert engine.case(case_id).stage == "notified"
        reversal = engine.reverse_payment(case_id, "BANK-7")
        case = engine.case(case_id)
        assert reversal.reopened == ("notified", "promise")
        assert case.promise.status == PromiseStatus.OPEN  # type: ignore[union-attr]
        assert case.promise.paid == 0  # type: ignore[union-attr]
        assert case.stage == "promise"
        same(engine, case_id)


class TestBroken:
    def test_nothing_paid_after_grace_breaks_it(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """Within grace the promise stays open; after it, broken, and the case goes to phone."""
        engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 25), grace_days=2)
        clock.set(shanghai(date(2027, 1, 27)))
        assert engine.review_promises(case_id).status == PromiseStatus.OPEN  # type: ignore[union-attr]
        assert engine.case(case_id).stage == "promise"
        clock.set(shanghai(date(2027, 1, 28)))
        promise = engine.review_promises(case_id)
        assert promise is not None
        assert promise.status == PromiseStatus.BROKEN
        assert promise.shortfall == 2000
        assert engine.case(case_id).stage == "phone"
        same(engine, case_id)

    def test_part_paid_is_partly_kept_with_the_shortfall(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """A promise half paid by its date is partly kept, with what was missing recorded."""
        engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 25))
        engine.record_payment(case_id, cny("1500.00"))
        clock.set(shanghai(date(2027, 1, 26)))
        promise = engine.review_promises(case_id)
        assert promise is not None
        assert promise.status == PromiseStatus.PARTLY_KEPT
        assert promise.shortfall == 500
        entry = engine.history(case_id)[-2]
        assert entry.kind == "promise_resolved"
        assert entry.data["shortfall"] == "500.00"
        assert engine.case(case_id).stage == "phone"

    def test_a_missed_first_instalment_breaks_a_two_part_promise(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """Each instalment is judged after its own grace, not only the last."""
        parts = [
            Instalment(due=date(2027, 1, 25), amount=cny("1000.00")),
            Instalment(due=date(2027, 2, 25), amount=cny("1000.00")),
        ]
        engine.record_promise(case_id, cny("2000.00"), date(2027, 2, 25), instalments=parts)
        engine.record_payment(case_id, cny("600.00"))
        clock.set(shanghai(date(2027, 1, 26)))
        promise = engine.review_promises(case_id)
        assert promise is not None
        assert promise.status == PromiseStatus.PARTLY_KEPT
        assert promise.shortfall == 400
        assert engine.history(case_id)[-2].data["instalment"] == 0

    def test_review_twice_records_once(
        self, engine: Engine, case_id: str, clock: SettableClock
    ) -> None:
        """A second review of a judged promise records nothing."""
        engine.record_promise(case_id, cny("2000.00"), date(2027, 1, 25))
        clock.set(shanghai(date(2027, 2, 1)))
        engine.review_promises(case_id)
        length = len(engine.history(case_id))
        engine.review_promises(case_id)
        assert len(engine.history(case_id)) == length

    def test_review_without_a_promise(self, engine: Engine, case_id: str) -> None:
        """No promise, nothing to judge."""
        assert engine.review_promises(case_id) is None


def test_grace_is_validated(engine: Engine, case_id: str) -> None:
    """A negative grace is refused, naming grace_days, and nothing is recorded."""
    length = len(engine.history(case_id))
    with pytest.raises(InvalidInput, match="grace_days"):
        engine.record_promise(case_id, cny("10.00"), date(2027, 1, 25), grace_days=-1)
    assert len(engine.history(case_id)) == length
