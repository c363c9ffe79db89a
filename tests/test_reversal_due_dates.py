"""A returned payment and what it leaves behind: the first missed due date, and the stage
of a case whose promise or plan stands when an earlier payment bounces.

A case's due date is the oldest date with something overdue (`test_aging`): a payment
that paid the oldest instalments, or cleared the arrears so that the next instalment
started a new spell, moved it on; when that payment bounces, the debtor has owed the
older instalment all along, and days past due (which drive escalation, buckets and
roll rates) must count from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import test_plans as plans
from arrears import Engine, JournalCorrupted, Money, SettableClock
from arrears.events import replay
from arrears.journal import GENESIS, JournalEntry, seal
from arrears.plans import RepaymentPlan, instalment_schedule
from test_payments import START, cny, loan


def shanghai(day: date, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* in Shanghai (UTC+8)."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def monthly_loan(**overrides: Any) -> dict[str, Any]:
    """A CNY loan of 1,000.00 a month: March's instalment unpaid, three more to come."""
    data: dict[str, Any] = {
        "id": "LN-M",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {"currency": "CNY", "principal": "1000.00", "not_due": "3000.00"},
        "due_date": "2027-03-01",
        "stage": "notified",
    }
    data.update(overrides)
    return data


def resealed(chain: list[JournalEntry], data: dict[str, Any]) -> list[JournalEntry]:
    """*chain* with its last entry's data replaced by *data*, sealed again as a forger
    who can hash would."""
    last = chain[-1]
    forged = seal(last.case_id, last.seq, last.at, last.kind, data, chain[-2].hash)
    return [*chain[:-1], forged]


def as_older_engines_wrote(
    chain: Sequence[JournalEntry], *, keep_due_date: bool = True
) -> list[JournalEntry]:
    """*chain* sealed again as the engines before cases kept their aging wrote it: no
    ``aging`` in the opening's snapshot nor in a reversal (and, without *keep_due_date*,
    no ``due_date`` in a reversal either, as the engines before that wrote it)."""
    out: list[JournalEntry] = []
    for entry in chain:
        data = dict(entry.data)
        if entry.kind == "opened":
            snapshot = json.loads(data["case"])
            snapshot.pop("aging", None)
            data["case"] = json.dumps(snapshot)
        elif entry.kind in ("payment_reversed", "agreement_reopened"):
            data.pop("aging", None)
            if not keep_due_date:
                data.pop("due_date", None)
        previous = out[-1].hash if out else GENESIS
        out.append(seal(entry.case_id, entry.seq, entry.at, entry.kind, data, previous))
    return out


def verifies(engine: Engine, chain: list[JournalEntry]) -> bool:
    """Whether *chain* replays under the engine's workflow with nothing forbidden."""
    try:
        replay(chain, None, check=engine.workflow.entry_problem)
    except JournalCorrupted:
        return False
    return True


def bounced_across_an_instalment() -> tuple[Engine, str]:
    """March's 1,000 unpaid, paid on 10 March (cured); April's falls due on 1 April while
    nothing is overdue (the due date moves to it); the March payment bounces on 5 April."""
    clock = SettableClock(shanghai(date(2027, 3, 1)))
    engine = Engine(clock=clock)
    case_id = engine.open_case(monthly_loan()).id
    clock.set(shanghai(date(2027, 3, 10)))
    assert engine.record_payment(case_id, cny("1000.00"), reference="MAR").cured
    clock.set(shanghai(date(2027, 4, 1)))
    engine.fall_due(case_id, cny("1000.00"), due=date(2027, 4, 1))
    assert engine.case(case_id).due_date == date(2027, 4, 1)
    clock.set(shanghai(date(2027, 4, 5)))
    assert engine.reverse_payment(case_id, "MAR").due_date == date(2027, 3, 1)
    return engine, case_id


class TestDueDate:
    def test_a_bounce_counts_days_past_due_from_the_instalment_it_paid(self) -> None:
        """Paid 10 March, bounced 20 March: 24 days past due on 25 March.  Paid 10 March,
        April's instalment due on 1 April, bounced 5 April: 2,000 owed since 1 March, 35
        days past due on 5 April (not 4, counted from April's).  A payment that cleared
        the arrears and was not returned still ends the spell."""
        clock = SettableClock(shanghai(date(2027, 3, 1)))
        engine = Engine(clock=clock)
        case_id = engine.open_case(monthly_loan()).id
        clock.set(shanghai(date(2027, 3, 10)))
        engine.record_payment(case_id, cny("1000.00"), reference="MAR")
        clock.set(shanghai(date(2027, 3, 20)))
        engine.reverse_payment(case_id, "MAR")
        assert engine.case(case_id).days_past_due(shanghai(date(2027, 3, 25))) == 24

        engine, case_id = bounced_across_an_instalment()
        case = engine.case(case_id)
        assert (case.arrears, case.due_date) == (cny("2000.00"), date(2027, 3, 1))
        assert case.days_past_due(shanghai(date(2027, 4, 5))) == 35
        assert case.bucket(shanghai(date(2027, 4, 5))) == "M2"
        assert engine.verify() == []
        assert engine.replay(case_id) == case

        # A later payment that cleared the arrears still ends the spell: 1,000 on 10 March
        # pays March; 1,000 more on 15 March is credit, which pays April's instalment.  The
        # 10 March payment bounces: without it the 15 March one paid March and April's went
        # unpaid, so 1,000 is owed since 1 April, not since 1 March.
        clock = SettableClock(shanghai(date(2027, 3, 1)))
        engine = Engine(clock=clock)
        case_id = engine.open_case(monthly_loan()).id
        clock.set(shanghai(date(2027, 3, 10)))
        engine.record_payment(case_id, cny("1000.00"), reference="A")
        clock.set(shanghai(date(2027, 3, 15)))
        engine.record_payment(case_id, cny("1000.00"), reference="B")
        clock.set(shanghai(date(2027, 4, 1)))
        engine.fall_due(case_id, cny("1000.00"), due=date(2027, 4, 1))
        clock.set(shanghai(date(2027, 4, 5)))
        engine.reverse_payment(case_id, "A")
        case = engine.case(case_id)
        assert (case.arrears, case.due_date) == (cny("1000.00"), date(2027, 4, 1))
        assert engine.verify() == []

    def test_the_kpis_fold_reads_the_restored_due_date(self) -> None:
        """The chain alone gives the restored due date (the KPIs fold it the same way)."""
        engine, case_id = bounced_across_an_instalment()
        reversed_ = engine.history(case_id)[-1]
        assert reversed_.kind == "payment_reversed"
        assert reversed_.data["due_date"] == "2027-03-01"
        assert replay(list(engine.history(case_id))).due_date == date(2027, 3, 1)

    def test_a_forged_due_date_is_refused_an_older_entry_read_as_written(self) -> None:
        """The reversal sealed again with April's due date (the debtor less late than they
        are) or February's (more): `verify` refuses both.  Sealed as an older engine wrote
        it, with no due date, it verifies and leaves the due date where April put it."""
        engine, case_id = bounced_across_an_instalment()
        chain = list(engine.history(case_id))
        assert verifies(engine, chain)
        for due in ("2027-04-01", "2027-02-01"):
            forged = resealed(chain, {**chain[-1].data, "due_date": due})
            with pytest.raises(JournalCorrupted, match="due date"):
                replay(forged, None, check=engine.workflow.entry_problem)
        # As an older engine wrote it (no aging, no due date): it reads as written.
        old_chain = as_older_engines_wrote(chain, keep_due_date=False)
        assert verifies(engine, old_chain)
        assert replay(old_chain).due_date == date(2027, 4, 1)


#: One step a day: an instalment of 1,000 falls due (the next month's, while any is left),
#: a payment, or a reversal of one of the payments not yet reversed (by its index).
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("due"), st.just(0)),
        st.tuples(st.just("pay"), st.sampled_from([500_00, 1000_00, 1500_00, 2000_00])),
        st.tuples(st.just("pay"), st.integers(1, 300_000)),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
    ),
    max_size=10,
)


def run(steps: list[tuple[str, int]], skip: frozenset[int]) -> tuple[Engine, list[int]]:
    """Run *steps* on the monthly loan, one a day from 2 March, leaving out the payments
    at the indices in *skip* and the reversals of them; the indices of the payments
    reversed."""
    clock = SettableClock(shanghai(date(2027, 3, 2)))
    engine = Engine(clock=clock)
    case_id = engine.open_case(monthly_loan()).id
    paid: list[int] = []
    reversed_: list[int] = []
    month = 4
    for index, (step, value) in enumerate(steps):
        clock.set(shanghai(date(2027, 3, 2) + timedelta(days=index)))
        if step == "due" and month <= 6:
            engine.fall_due(case_id, cny("1000.00"), due=date(2027, month, 1))
            month += 1
        elif step == "pay":
            paid.append(index)
            if index not in skip:
                amount = Money(Decimal(value).scaleb(-2), "CNY")
                engine.record_payment(case_id, amount, reference=f"P{index}")
        elif step == "reverse" and paid:
            payment = paid.pop(value % len(paid))
            reversed_.append(payment)
            if payment not in skip:
                engine.reverse_payment(case_id, f"P{payment}")
    return engine, reversed_


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=[("pay", 1000_00), ("due", 0), ("reverse", 0)])
@example(steps=[("pay", 1000_00), ("pay", 1000_00), ("due", 0), ("reverse", 0)])
@example(steps=[("pay", 1500_00), ("due", 0), ("pay", 1000_00), ("due", 0), ("reverse", 0)])
def test_days_past_due_after_reversals_as_if_never_paid(steps: list[tuple[str, int]]) -> None:
    """After any payments (partial ones too), instalments falling due and reversals, the
    case owes what it would owe, by due date, and is as many days past due, as if the
    payments reversed had never been made; the chain verifies and replays to the live
    case.  (`test_aging` runs the same with instalments of any amount.)"""
    engine, returned = run(steps, frozenset())
    never, _ = run(steps, frozenset(returned))
    case, without = engine.case("LN-M"), never.case("LN-M")
    assert case.arrears.amount - case.balance.credit == (
        without.arrears.amount - without.balance.credit
    )
    assert case.aging == without.aging  # what is owed, by the date it fell due
    for day in (date(2027, 3, 25), date(2027, 5, 15), date(2027, 9, 1)):
        assert case.days_past_due(shanghai(day)) == without.days_past_due(shanghai(day))
    assert engine.verify() == []
    assert engine.replay("LN-M") == case


def completed_after_an_earlier_payment() -> tuple[Engine, SettableClock, str]:
    """1,000 paid in ``phone``, then a plan of the 11,000 left, paid in two instalments:
    the plan completes and ``plan_completed`` resolves the case."""
    clock = SettableClock(plans.START)
    engine = Engine(clock=clock)
    case_id = engine.open_case(plans.loan()).id
    engine.record_payment(case_id, cny("1000.00"), reference="PRE")
    parts = instalment_schedule(cny("11000.00"), date(2027, 1, 31), count=2)
    plan = RepaymentPlan(id="PLAN-1", kind="extension", instalments=parts, required_documents=())
    for part in engine.start_plan(case_id, plan, actor=plans.AGENT).instalments:
        plans.pay_on(engine, clock, case_id, part.due, part.amount)
    assert engine.case(case_id).stage == "resolved"
    return engine, clock, case_id


class TestAgreementStands:
    def test_a_completed_plan_whose_earlier_payment_bounces(self) -> None:
        """The 1,000 paid before the plan bounces: the plan stays completed (every
        instalment was paid), the 1,000 is owed again, and the case is back in
        ``repayment_plan``, where ``plan_completed``'s guard (arrears cleared) keeps a
        plan paid with arrears left; paying the 1,000 then resolves it."""
        engine, clock, case_id = completed_after_an_earlier_payment()
        clock.set(plans.shanghai(date(2027, 4, 1)))
        assert engine.reverse_payment(case_id, "PRE").reopened == ("resolved", "repayment_plan")
        case = engine.case(case_id)
        assert case.plan is not None
        assert (case.stage, case.plan.status, case.arrears) == (
            "repayment_plan",
            "completed",
            cny("1000.00"),
        )
        assert engine.verify() == []
        assert engine.replay(case_id) == case
        clock.set(plans.shanghai(date(2027, 4, 2)))
        assert engine.record_payment(case_id, cny("1000.00"), reference="AGAIN").cured
        assert engine.case(case_id).stage == "resolved"

    def test_a_reduction_plan_keeps_its_waiver(self) -> None:
        """A reduction plan of 9,000 with 2,000 waived, after 1,000 paid; the 1,000
        bounces after it completed: back in ``repayment_plan`` owing the 1,000 alone, the
        2,000 the debtor earned by completing the plan still waived."""
        clock = SettableClock(plans.START)
        engine = Engine(clock=clock)
        case_id = engine.open_case(plans.loan()).id
        engine.record_payment(case_id, cny("1000.00"), reference="PRE")
        parts = instalment_schedule(cny("9000.00"), date(2027, 1, 31), count=2)
        plan = RepaymentPlan(
            id="PLAN-R",
            kind="reduction",
            instalments=parts,
            waived="2000.00",
            required_documents=(),
        )
        for part in engine.start_plan(case_id, plan, actor=plans.AGENT).instalments:
            plans.pay_on(engine, clock, case_id, part.due, part.amount)
        assert engine.case(case_id).stage == "resolved"
        clock.set(plans.shanghai(date(2027, 4, 1)))
        engine.reverse_payment(case_id, "PRE")
        case = engine.case(case_id)
        assert case.plan is not None
        assert (case.stage, case.plan.status, case.arrears) == (
            "repayment_plan",
            "completed",
            cny("1000.00"),
        )
        assert engine.verify() == []

    def test_an_older_engines_reversal_leaving_the_plan_resolved(self) -> None:
        """The same reversal as an older engine wrote it (no due date, no move): it still
        verifies; the same move claimed without a due date, or no move with one, does not."""
        engine, clock, case_id = completed_after_an_earlier_payment()
        clock.set(plans.shanghai(date(2027, 4, 1)))
        engine.reverse_payment(case_id, "PRE")
        chain = as_older_engines_wrote(engine.history(case_id))  # opened without aging
        now = chain[-1].data
        older = {k: v for k, v in now.items() if k not in ("due_date", "stage")}
        assert verifies(engine, resealed(chain, older))
        assert not verifies(engine, resealed(chain, {k: v for k, v in now.items() if k != "stage"}))
        moved = {k: v for k, v in now.items() if k != "due_date"}
        assert not verifies(engine, resealed(chain, moved))

    def test_a_promise_kept_by_a_cure_whose_earlier_payment_bounces(self) -> None:
        """1,000 paid in ``phone``; a promise of the 11,530 left, kept by a payment of
        11,530 that cures the case.  The 1,000 bounces: the promise stays kept, and the
        case goes where ``promise_kept`` takes a kept promise that leaves arrears
        (``notified``), not back to ``promise``, which no review would move it out of."""
        clock = SettableClock(START)
        engine = Engine(clock=clock)
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="PRE")
        clock.set(START + timedelta(hours=1))
        engine.record_promise(case_id, cny("11530.00"), date(2027, 1, 25))
        clock.set(START + timedelta(hours=2))
        assert engine.record_payment(case_id, cny("11530.00"), reference="KEEP").cured
        clock.set(START + timedelta(hours=3))
        assert engine.reverse_payment(case_id, "PRE").reopened == ("resolved", "notified")
        case = engine.case(case_id)
        assert case.promise is not None
        assert (case.stage, case.promise.status, case.arrears) == (
            "notified",
            "kept",
            cny("1000.00"),
        )
        assert engine.verify() == []
        chain = as_older_engines_wrote(engine.history(case_id))  # opened without aging
        older = {**chain[-1].data, "stage": {"from": "resolved", "to": "promise"}}
        del older["due_date"]
        assert verifies(engine, resealed(chain, older))  # as an older engine wrote it
        assert not verifies(engine, resealed(chain, {**older, "due_date": "2026-12-31"}))
