"""`arrears.kpi`: what a reversal undid is not counted, in any window.

The KPIs of a window read the record as known when the report is made: a
payment reversed, whenever, is not collected money; a promise kept is kept
only if no reversal re-opened it; a case cured or cleared by a payment later
reversed was not cured.  See ``docs/kpis.md`` ("Reversals").
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from arrears import Actor, Engine, Money, RepaymentPlan, SettableClock, instalment_schedule
from arrears.kpi import Kpis, kpis_from_journal

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 9, 1, 9, 0, tzinfo=SHANGHAI)
SEPTEMBER = (START, START + timedelta(days=30))
OCTOBER = (START + timedelta(days=30), START + timedelta(days=60))
AGENT = Actor("agent-7", frozenset({"agent"}))


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def on(month: int, day: int, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* of *month* 2026, in Shanghai."""
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def loan(
    case_id: str = "LN-1", principal: str = "1000.00", debtor: str = "D-1"
) -> dict[str, object]:
    """*principal* overdue since 20 August 2026 (M1 on 1 September), in the phone stage."""
    return {
        "id": case_id,
        "debtor": {"id": debtor, "timezone": "Asia/Shanghai"},
        "balance": {"currency": "CNY", "principal": principal},
        "due_date": "2026-08-20",
        "stage": "phone",
    }


def kpis(engine: Engine, window: tuple[datetime, datetime]) -> Kpis:
    start, end = window
    return kpis_from_journal(engine.store.chains(), start=start, end=end).overall


def promise_kept_then_returned(returned: datetime) -> Engine:
    """1,000.00 promised by 5 September, paid on 3 September (kept, cured), the payment
    returned by the bank at *returned*."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(loan(), at=START)
    engine.record_promise("LN-1", cny("1000.00"), date(2026, 9, 5), at=on(9, 1, 11))
    engine.record_payment("LN-1", cny("1000.00"), reference="BANK-1", at=on(9, 3))
    assert engine.case("LN-1").promise.status == "kept"  # type: ignore[union-attr]
    engine.reverse_payment("LN-1", "BANK-1", at=returned, reason="returned by the bank")
    assert engine.case("LN-1").promise.status == "open"  # type: ignore[union-attr]
    return engine


def test_a_promise_kept_then_reopened_and_broken_counts_once_as_broken() -> None:
    """Returned on 4 September, the promise is open again and broken on 8 September:
    one promise resolved, not kept; nothing collected; not cured."""
    engine = promise_kept_then_returned(on(9, 4))
    engine.review_promises("LN-1", at=on(9, 8))
    statuses = [e.data["status"] for e in engine.history("LN-1") if e.kind == "promise_resolved"]
    assert statuses == ["kept", "broken"]
    september = kpis(engine, SEPTEMBER)
    assert (september.promises, september.promises_resolved, september.promises_kept) == (1, 1, 0)
    assert september.promise_kept_rate == 0.0
    assert september.collected == Decimal(0)
    assert (september.past_due_cases, september.cured) == (1, 0)


def test_a_reversal_after_the_window_undoes_the_promise_the_cure_and_the_money() -> None:
    """Returned on 3 October: September, reported now, has no promise kept, no money
    collected and no case cured; the case rolled from M1 to M2 (42 days on 1 October)."""
    engine = promise_kept_then_returned(on(10, 3))
    september = kpis(engine, SEPTEMBER)
    assert (september.promises, september.promises_resolved, september.promises_kept) == (1, 0, 0)
    assert september.promise_kept_rate is None
    assert (september.collected, september.collected_past_due) == (Decimal(0), Decimal(0))
    assert september.collected_by_day[2] == Decimal(0)
    assert september.recovery_rate == 0.0
    assert (september.past_due_cases, september.cured, september.cure_rate) == (1, 0, 0.0)
    assert september.flows == {("M1", "M2"): 1}
    # October does not take the returned payment off again
    october = kpis(engine, OCTOBER)
    assert october.collected == Decimal(0)
    assert october.past_due == Decimal("1000.00")
    assert october.past_due_cases == 1


def test_a_payment_before_the_window_returned_inside_it() -> None:
    """Paid in full on 25 August, returned on 5 September: the case was past due when it
    entered September (1,000.00), and the return takes nothing off September's money."""
    engine = Engine(clock=SettableClock(on(8, 21)))
    engine.open_case(loan(), at=on(8, 21))
    engine.record_payment("LN-1", cny("1000.00"), reference="BANK-1", at=on(8, 25))
    engine.reverse_payment("LN-1", "BANK-1", at=on(9, 5))
    september = kpis(engine, SEPTEMBER)
    assert (september.past_due_cases, september.past_due) == (1, Decimal("1000.00"))
    assert (september.collected, september.collected_past_due) == (Decimal(0), Decimal(0))
    assert september.recovery_cases == [(Decimal("1000.00"), Decimal(0))]
    assert september.flows == {("M1", "M2"): 1}


def test_a_reduction_plan_completed_and_returned_after_the_window() -> None:
    """500.00 paid on 3 September completes a reduction plan (3,000.00 waived); returned on
    2 October. In September, reported now, the case owes 3,500.00 throughout: not cured,
    nothing collected, M1 to M2."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(loan(principal="3500.00"), at=START)
    for kind in ("proof_of_income", "bank_statement"):
        engine.record_document("LN-1", kind, at=on(9, 1))
    plan = RepaymentPlan(
        id="RED-1",
        kind="reduction",
        instalments=instalment_schedule(cny("500.00"), date(2026, 9, 5), count=1),
        waived="3000.00",
    )
    engine.start_plan("LN-1", plan, actor=AGENT, at=on(9, 1, 11))
    engine.record_payment("LN-1", cny("500.00"), reference="BANK-500", at=on(9, 3))
    assert engine.case("LN-1").arrears == cny("0.00")
    engine.reverse_payment("LN-1", "BANK-500", at=on(10, 2))
    assert engine.case("LN-1").arrears == cny("3500.00")
    september = kpis(engine, SEPTEMBER)
    assert (september.cured, september.collected) == (0, Decimal(0))
    assert september.flows == {("M1", "M2"): 1}
    # between the payment and the return, the case as corrected owes all of it again
    mid = kpis(engine, (on(9, 10), on(9, 20)))
    assert (mid.past_due_cases, mid.past_due) == (1, Decimal("3500.00"))


def test_credit_a_returned_payment_left_is_owed_again_from_when_it_was_used() -> None:
    """A 1,500.00 payment on 3 September clears 1,000.00 and keeps 500.00 as credit; the
    next 500.00 instalment falls due on 10 September and is paid from the credit. The
    payment is returned on 2 October: September's case owes 1,000.00 from 3 September and
    1,500.00 from 10 September, and is past due throughout, since 20 August."""
    engine = Engine(clock=SettableClock(START))
    record = loan()
    record["balance"] = {"currency": "CNY", "principal": "1000.00", "not_due": "500.00"}
    engine.open_case(record, at=START)
    engine.record_payment("LN-1", cny("1500.00"), reference="BANK-1", at=on(9, 3))
    engine.fall_due("LN-1", cny("500.00"), due=date(2026, 9, 10), at=on(9, 10, 0))
    case = engine.case("LN-1")
    assert (case.arrears, case.balance.credit) == (cny("0.00"), Decimal("0.00"))
    engine.reverse_payment("LN-1", "BANK-1", at=on(10, 2))
    assert engine.case("LN-1").arrears == cny("1500.00")
    assert kpis(engine, (on(9, 5), on(9, 6))).past_due == Decimal("1000.00")
    assert kpis(engine, (on(9, 11), on(9, 12))).past_due == Decimal("1500.00")
    september = kpis(engine, SEPTEMBER)
    assert (september.cured, september.collected) == (0, Decimal(0))
    # the instalment fell due on 10 September while the returned payment had cleared the
    # arrears: without it the case was overdue all along, since 20 August, so it rolls
    # from M1 (12 days past due on 1 September) to M2 (42 days on 1 October), as the
    # engine counts them once the payment is reversed
    assert engine.case("LN-1").due_date == date(2026, 8, 20)
    assert september.flows == {("M1", "M2"): 1}


def test_a_promise_over_two_loans_reopened_by_a_reversal_on_one_is_kept_on_neither() -> None:
    """One promise of 1,500.00 over two loans of one debtor, kept on both on 3 September;
    the payment to loan 1 is returned on 2 October, re-opening the promise on both
    (loan 2 by an ``agreement_reopened`` entry). September: no promise kept."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(loan("LN-1", "1000.00"), at=START)
    engine.open_case(loan("LN-2", "500.00"), at=START)
    engine.record_promise(
        "LN-1", cny("1500.00"), date(2026, 9, 5), at=on(9, 1, 11), actor=AGENT, covers=["LN-2"]
    )
    engine.record_payment("LN-2", cny("500.00"), reference="BANK-2", at=on(9, 3))
    engine.record_payment("LN-1", cny("1000.00"), reference="BANK-1", at=on(9, 3))
    before = kpis(engine, SEPTEMBER)
    assert (before.promises_resolved, before.promises_kept) == (2, 2)
    engine.reverse_payment("LN-1", "BANK-1", at=on(10, 2))
    assert [e.kind for e in engine.history("LN-2")][-1] == "agreement_reopened"
    september = kpis(engine, SEPTEMBER)
    assert (september.promises, september.promises_resolved, september.promises_kept) == (2, 0, 0)
    # loan 2's own payment stands: collected, and it was cured
    assert september.collected == Decimal("500.00")
    assert (september.past_due_cases, september.cured) == (2, 1)


def test_a_reversal_that_leaves_the_promise_kept_leaves_it_counted() -> None:
    """Promised 1,000.00, paid 1,000.00 then 200.00 more; returning the 200.00 leaves the
    promise kept (1,000.00 counted towards it still): kept, and 1,000.00 collected."""
    engine = Engine(clock=SettableClock(START))
    engine.open_case(loan(principal="1500.00"), at=START)
    engine.record_promise("LN-1", cny("1000.00"), date(2026, 9, 5), at=on(9, 1, 11))
    engine.record_payment("LN-1", cny("1000.00"), reference="BANK-1", at=on(9, 3))
    engine.record_payment("LN-1", cny("200.00"), reference="BANK-2", at=on(9, 4))
    engine.reverse_payment("LN-1", "BANK-2", at=on(9, 6))
    assert engine.case("LN-1").promise.status == "kept"  # type: ignore[union-attr]
    september = kpis(engine, SEPTEMBER)
    assert (september.promises_resolved, september.promises_kept) == (1, 1)
    assert september.collected == Decimal("1000.00")
