"""Days past due count from the oldest instalment not fully paid.

A case keeps what is overdue by the date it fell due (`Case.aging`): the opening's
arrears under its due date, each instalment under its own.  Whatever pays or waives
arrears takes the oldest dates first, whatever components the money itself goes to,
and the due date is the oldest date with something left.  A debtor owing March's and
April's instalments who pays March's in full on 10 April is 9 days past due, not 40.
See ``docs/cases.md`` ("Days past due and buckets").
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from arrears import (
    Actor,
    ApprovalLimits,
    Engine,
    InvalidInput,
    JournalCorrupted,
    Money,
    SettableClock,
)
from arrears.case import Case, paid_off, youngest
from arrears.events import replay
from arrears.journal import seal
from arrears.kpi import _fold
from test_reversal_due_dates import as_older_engines_wrote


def shanghai(day: date, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* in Shanghai (UTC+8)."""
    return datetime(day.year, day.month, day.day, hour - 8, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


MARCH, APRIL, MAY = date(2027, 3, 1), date(2027, 4, 1), date(2027, 5, 1)
TENTH_OF_APRIL = shanghai(date(2027, 4, 10))


def monthly_loan(**overrides: Any) -> dict[str, Any]:
    """A CNY loan of 1,000.00 a month: March's instalment unpaid, three more to come."""
    data: dict[str, Any] = {
        "id": "LN-A",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {"currency": "CNY", "principal": "1000.00", "not_due": "3000.00"},
        "due_date": MARCH.isoformat(),
        "stage": "notified",
    }
    data.update(overrides)
    return data


def march_and_april_owed(**overrides: Any) -> tuple[Engine, SettableClock]:
    """March's 1,000 unpaid; April's falls due on 1 April: 2,000 owed on 10 April."""
    clock = SettableClock(shanghai(date(2027, 3, 2)))
    engine = Engine(clock=clock)
    engine.open_case(monthly_loan(**overrides))
    clock.set(shanghai(APRIL))
    engine.fall_due("LN-A", cny("1000.00"), due=APRIL)
    clock.set(TENTH_OF_APRIL)
    return engine, clock


def aging(case: Case) -> list[tuple[str, str]]:
    """The case's aging as text, to compare with the values written out."""
    return [(due.isoformat(), str(amount)) for due, amount in case.aging or ()]


class TestPayments:
    def test_paying_march_in_full_counts_from_april(self) -> None:
        """The brief's example: 2,000 owed (March's and April's), March's 1,000 paid on
        10 April: 9 days past due from 1 April (M1), not 40 from 1 March (M2)."""
        engine, _ = march_and_april_owed()
        case = engine.case("LN-A")
        assert (case.due_date, case.days_past_due(TENTH_OF_APRIL)) == (MARCH, 40)
        engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        case = engine.case("LN-A")
        assert aging(case) == [("2027-04-01", "1000.00")]
        assert case.due_date == APRIL
        assert (case.days_past_due(TENTH_OF_APRIL), case.bucket(TENTH_OF_APRIL)) == (9, "M1")
        assert engine.verify() == []
        assert engine.replay("LN-A") == case

    def test_a_partial_payment_of_march_moves_nothing(self) -> None:
        """999.99 of March's 1,000: a cent of March is still unpaid, 40 days past due."""
        engine, _ = march_and_april_owed()
        engine.record_payment("LN-A", cny("999.99"), reference="PART")
        case = engine.case("LN-A")
        assert aging(case) == [("2027-03-01", "0.01"), ("2027-04-01", "1000.00")]
        assert (case.due_date, case.days_past_due(TENTH_OF_APRIL)) == (MARCH, 40)

    def test_an_overpayment_pays_march_and_part_of_april(self) -> None:
        """1,500: March's paid and half of April's, 500 left from 1 April."""
        engine, _ = march_and_april_owed()
        engine.record_payment("LN-A", cny("1500.00"), reference="MORE")
        case = engine.case("LN-A")
        assert aging(case) == [("2027-04-01", "500.00")]
        assert (case.due_date, case.days_past_due(TENTH_OF_APRIL)) == (APRIL, 9)

    def test_paying_everything_and_more_then_may_falls_due(self) -> None:
        """2,500: nothing overdue, 500 credit; the due date stays as it was until May's
        instalment falls due (a new spell from 1 May), which the credit half pays."""
        engine, clock = march_and_april_owed()
        engine.record_payment("LN-A", cny("2500.00"), reference="ALL")
        case = engine.case("LN-A")
        assert (aging(case), case.arrears, case.balance.credit) == (
            [],
            cny("0.00"),
            Decimal("500.00"),
        )
        assert case.days_past_due(TENTH_OF_APRIL) == 0
        clock.set(shanghai(MAY))
        engine.fall_due("LN-A", cny("1000.00"), due=MAY)
        case = engine.case("LN-A")
        assert aging(case) == [("2027-05-01", "500.00")]
        assert case.due_date == MAY
        assert engine.verify() == []

    def test_the_money_goes_by_components_the_aging_by_date(self) -> None:
        """Penalty interest of 40.00 is charged through 10 April before the payment (due
        that day); the 1,000 goes to the penalty first (the allocation order), yet takes
        1,000 off the oldest dates: March's instalment is paid, the penalty's 40 left
        under 10 April, and the case counts from 1 April."""
        engine, _ = march_and_april_owed(terms={"penalty_rate": "0.0005"})
        result = engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        assert (result.applied["penalty"], result.applied["principal"]) == (
            cny("40.00"),
            cny("960.00"),
        )
        case = engine.case("LN-A")
        assert aging(case) == [("2027-04-01", "1000.00"), ("2027-04-10", "40.00")]
        assert (case.due_date, case.days_past_due(TENTH_OF_APRIL)) == (APRIL, 9)
        assert engine.verify() == []

    def test_a_waiver_takes_the_oldest_first(self) -> None:
        """1,000 of the 2,000 waived: March's is gone, April's is left."""
        engine, _ = march_and_april_owed()
        engine.waive("LN-A", cny("1000.00"), reason="goodwill", actor=MANAGER, limits=LIMITS)
        case = engine.case("LN-A")
        assert (aging(case), case.due_date) == ([("2027-04-01", "1000.00")], APRIL)
        assert engine.verify() == []


class TestLateFees:
    @pytest.mark.parametrize("pays", [False, True])
    def test_one_late_fee_a_spell_whether_or_not_march_is_paid(self, pays: bool) -> None:
        """A late fee of 50 once for each spell of arrears, as before cases kept their
        aging: paying March's instalment on 10 April moves the due date to 1 April, and
        April is not charged a fee that a debtor who paid nothing is not charged."""
        terms = {"late_fee": {"amount": "50.00", "currency": "CNY"}}
        engine, clock = march_and_april_owed(terms=terms)
        if pays:
            engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        clock.set(shanghai(date(2027, 4, 12)))
        engine.accrue("LN-A")
        accrual = engine.case("LN-A").accrual
        assert accrual is not None
        assert accrual.fees == Decimal("50.00")
        assert engine.verify() == []

    def test_a_reversal_taking_the_due_date_back_charges_no_second_fee(self) -> None:
        """March's fee charged, March paid (and charges accrued since), the payment
        bounces: the due date is 1 March again, and March's fee is not charged twice."""
        terms = {"late_fee": {"amount": "50.00", "currency": "CNY"}}
        engine, clock = march_and_april_owed(terms=terms)
        engine.record_payment("LN-A", cny("1050.00"), reference="MAR")
        clock.set(shanghai(date(2027, 4, 12)))
        engine.accrue("LN-A")  # no fee for April: March's spell was charged one
        clock.set(shanghai(date(2027, 4, 15)))
        engine.reverse_payment("LN-A", "MAR")
        assert engine.case("LN-A").due_date == MARCH
        clock.set(shanghai(date(2027, 4, 16)))
        engine.accrue("LN-A")
        accrual = engine.case("LN-A").accrual
        assert accrual is not None
        assert accrual.fees == Decimal("50.00")


class TestOpening:
    def test_ninety_days_in_one_amount_stay_ninety_days_after_one_instalment(self) -> None:
        """Opened with 3,000 overdue since 1 January and nothing saying when each part fell
        due: one date holds all of it, so paying one instalment's 1,000 leaves the case
        counted from 1 January (90 days on 1 April) — the record says no more."""
        clock = SettableClock(shanghai(APRIL))
        engine = Engine(clock=clock)
        balance = {"currency": "CNY", "principal": "3000.00"}
        engine.open_case(monthly_loan(balance=balance, due_date="2027-01-01"))
        engine.record_payment("LN-A", cny("1000.00"), reference="JAN")
        case = engine.case("LN-A")
        assert aging(case) == [("2027-01-01", "2000.00")]
        assert case.days_past_due(shanghai(APRIL)) == 90

    def test_the_host_may_open_with_the_arrears_by_due_date(self) -> None:
        """The same 3,000 opened as January's, February's and March's 1,000: paying one
        leaves the case counted from 1 February (59 days on 1 April)."""
        clock = SettableClock(shanghai(APRIL))
        engine = Engine(clock=clock)
        balance = {"currency": "CNY", "principal": "3000.00"}
        split = [["2027-01-01", "1000"], ["2027-02-01", "1000"], ["2027-03-01", "1000"]]
        engine.open_case(monthly_loan(balance=balance, due_date="2027-01-01", aging=split))
        assert aging(engine.case("LN-A"))[0] == ("2027-01-01", "1000.00")
        engine.record_payment("LN-A", cny("1000.00"), reference="JAN")
        case = engine.case("LN-A")
        assert (case.due_date, case.days_past_due(shanghai(APRIL))) == (date(2027, 2, 1), 59)
        assert engine.verify() == []

    @pytest.mark.parametrize(
        ("split", "expected"),
        [
            (
                [["2027-01-01", "1000"], ["2027-02-01", "1000"]],
                "expected amounts summing to the arrears, 3000.00 (they sum to 2000.00)",
            ),
            (
                [["2027-02-01", "1000"], ["2027-01-01", "2000"]],
                "expected each due date once, oldest first",
            ),
            (
                [["2027-02-01", "1000"], ["2027-03-01", "2000"]],
                "expected the oldest date to be the due date, 2027-01-01",
            ),
            (
                [["2027-01-01", "3000.001"]],
                "expected amounts above zero in CNY's minor units",
            ),
        ],
    )
    def test_an_aging_that_is_not_the_arrears_is_refused(
        self, split: list[list[str]], expected: str
    ) -> None:
        engine = Engine(clock=SettableClock(shanghai(APRIL)))
        balance = {"currency": "CNY", "principal": "3000.00"}
        with pytest.raises(InvalidInput, match="aging") as refused:
            engine.open_case(monthly_loan(balance=balance, due_date="2027-01-01", aging=split))
        assert expected in str(refused.value)


MANAGER = Actor("mgr-1", frozenset({"manager"}))
LIMITS = ApprovalLimits(limits={"manager": Money("5000.00", "CNY")})


class TestReversals:
    def test_a_bounced_march_payment_counts_from_march_again(self) -> None:
        """March's payment bounces on 15 April: 2,000 owed from 1 March (45 days), the
        reversal records the aging and due date, and `verify` works both out again."""
        engine, clock = march_and_april_owed()
        engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        clock.set(shanghai(date(2027, 4, 15)))
        assert engine.reverse_payment("LN-A", "MAR").due_date == MARCH
        case = engine.case("LN-A")
        assert aging(case) == [("2027-03-01", "1000.00"), ("2027-04-01", "1000.00")]
        assert case.days_past_due(shanghai(date(2027, 4, 15))) == 45
        entry = engine.history("LN-A")[-1]
        assert entry.data["aging"] == [["2027-03-01", "1000.00"], ["2027-04-01", "1000.00"]]
        assert engine.verify() == []
        assert engine.replay("LN-A") == case

    def test_a_forged_aging_is_refused(self) -> None:
        """The reversal sealed again leaving March paid (the debtor less late than they
        are), with or without a due date to match: `verify` refuses it."""
        engine, clock = march_and_april_owed()
        engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        clock.set(shanghai(date(2027, 4, 15)))
        engine.reverse_payment("LN-A", "MAR")
        chain = list(engine.history("LN-A"))
        last = chain[-1]
        for forged_data in (
            {**last.data, "aging": [["2027-04-01", "2000.00"]], "due_date": "2027-04-01"},
            {**last.data, "aging": [["2027-04-01", "2000.00"]]},
            {k: v for k, v in last.data.items() if k != "aging"},
        ):
            forged = seal(last.case_id, last.seq, last.at, last.kind, forged_data, chain[-2].hash)
            with pytest.raises(JournalCorrupted, match=r"overdue by due date|due date"):
                replay([*chain[:-1], forged], None, check=engine.workflow.entry_problem)

    def test_the_kpis_count_a_returned_payment_as_never_made(self) -> None:
        """Seen after the bounce on 20 April, the case on 15 April was 45 days past due
        (M2): the payment of 10 April never paid March."""
        engine, clock = march_and_april_owed()
        engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        before = _fold(engine.history("LN-A"))
        assert before is not None
        on_15th = shanghai(date(2027, 4, 15))
        assert before.bucket(before.state_at(on_15th), on_15th) == "M1"
        clock.set(shanghai(date(2027, 4, 20)))
        engine.reverse_payment("LN-A", "MAR")
        fold = _fold(engine.history("LN-A"))
        assert fold is not None
        state = fold.state_at(on_15th)
        assert (state.due, fold.days_past_due(state, on_15th)) == (MARCH, 45)
        assert fold.bucket(state, on_15th) == "M2"


class TestOlderJournals:
    def test_a_case_opened_before_aging_keeps_its_rule(self) -> None:
        """A chain an older engine wrote (its opening's snapshot has no aging) replays and
        verifies as written: March's payment leaves the due date on 1 March."""
        engine, _ = march_and_april_owed()
        engine.record_payment("LN-A", cny("1000.00"), reference="MAR")
        old = as_older_engines_wrote(engine.history("LN-A"))
        case = replay(old, None, check=engine.workflow.entry_problem)
        assert (case.aging, case.due_date) == (None, MARCH)

    def test_an_older_case_in_a_store_verifies_and_goes_on_under_its_rule(self) -> None:
        """The older chain (March's and April's owed) in a store: `verify` passes, and a
        payment of March recorded now leaves the due date on 1 March, as the engine that
        opened it would have: one rule per chain, so the stored case stays its replay."""
        engine, clock = march_and_april_owed()
        old = as_older_engines_wrote(engine.history("LN-A"))
        other = Engine(clock=clock)
        with other.store.transaction():
            other.store.add(replay(old[:1]), old[0])
            for length in range(2, len(old) + 1):
                other.store.append(old[length - 1], replay(old[:length]))
            other.store.schedule("LN-A", old[-1].at)  # as every engine schedules an open case
        assert other.verify() == []
        other.record_payment("LN-A", cny("1000.00"), reference="MAR")
        case = other.case("LN-A")
        assert (case.aging, case.due_date, case.days_past_due(TENTH_OF_APRIL)) == (
            None,
            MARCH,
            40,
        )
        assert other.verify() == []


#: One step a day: an instalment of some amount falls due, a payment, or a reversal of
#: one of the payments not yet reversed (by its index).
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("due"), st.integers(1, 2_000_00)),
        st.tuples(st.just("pay"), st.sampled_from([500_00, 1000_00, 1500_00, 2000_00])),
        st.tuples(st.just("pay"), st.integers(1, 300_000)),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
    ),
    max_size=14,
)


def run(steps: list[tuple[str, int]], skip: frozenset[int]) -> tuple[Engine, list[int]]:
    """Run *steps* on a loan of 12,000 left to fall due (March's 1,000 unpaid), one step
    every five days from 2 March, instalments due on the 1st of each month after April's,
    leaving out the payments at the indices in *skip* and the reversals of them; the
    indices of the payments reversed."""
    clock = SettableClock(shanghai(date(2027, 3, 2)))
    engine = Engine(clock=clock)
    balance = {"currency": "CNY", "principal": "1000.00", "not_due": "30000.00"}
    engine.open_case(monthly_loan(balance=balance))
    paid: list[int] = []
    reversed_: list[int] = []
    month = 4
    for index, (step, value) in enumerate(steps):
        clock.set(shanghai(date(2027, 3, 2) + timedelta(days=5 * index)))
        if step == "due":
            due = date(2027 + (month - 1) // 12, (month - 1) % 12 + 1, 1)
            if due <= clock.now().date():
                engine.fall_due("LN-A", Money(Decimal(value).scaleb(-2), "CNY"), due=due)
                month += 1
        elif step == "pay":
            paid.append(index)
            if index not in skip:
                amount = Money(Decimal(value).scaleb(-2), "CNY")
                engine.record_payment("LN-A", amount, reference=f"P{index}")
        elif step == "reverse" and paid:
            payment = paid.pop(value % len(paid))
            reversed_.append(payment)
            if payment not in skip:
                engine.reverse_payment("LN-A", f"P{payment}")
    return engine, reversed_


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=[("due", 1000_00), ("pay", 1000_00), ("reverse", 0)])
@example(steps=[("pay", 1500_00), ("due", 100_000), ("pay", 700_00), ("reverse", 0)])
@example(steps=[("due", 1000_00), ("pay", 1000_00), ("due", 1000_00), ("reverse", 0)])
def test_a_reversal_leaves_the_aging_as_if_never_paid(steps: list[tuple[str, int]]) -> None:
    """After any partial payments, instalments of any amount and reversals, the case owes
    what it would owe, by due date, as if the payments reversed had never been made (so
    it is as many days past due on any day); its due date is its oldest date with
    something left; the chain verifies and replays to the live case."""
    engine, returned = run(steps, frozenset())
    never, _ = run(steps, frozenset(returned))
    case, without = engine.case("LN-A"), never.case("LN-A")
    assert case.arrears.amount - case.balance.credit == (
        without.arrears.amount - without.balance.credit
    )
    assert case.aging == without.aging
    if case.aging:
        assert case.due_date == case.aging[0][0]
    assert sum((amount for _, amount in case.aging or ()), Decimal(0)) == case.arrears.amount
    for day in (date(2027, 3, 25), date(2027, 5, 15), date(2027, 9, 1)):
        assert case.days_past_due(shanghai(day)) == without.days_past_due(shanghai(day))
    assert engine.verify() == []
    assert engine.replay("LN-A") == case


class TestHelpers:
    def test_paid_off_and_youngest(self) -> None:
        aging = ((MARCH, Decimal("1000.00")), (APRIL, Decimal("1000.00")))
        assert paid_off(aging, Decimal("1000.00")) == ((APRIL, Decimal("1000.00")),)
        assert paid_off(aging, Decimal("2500.00")) == ()
        fell = [(APRIL, Decimal("1000.00")), (MARCH, Decimal("1000.00"))]
        assert youngest(fell, Decimal("1500.00")) == (
            (MARCH, Decimal("500.00")),
            (APRIL, Decimal("1000.00")),
        )
        assert youngest(fell, Decimal(0)) == ()


def test_the_snapshot_of_an_opening_holds_the_aging() -> None:
    engine, _ = march_and_april_owed()
    snapshot = json.loads(engine.history("LN-A")[0].data["case"])
    assert snapshot["aging"] == [["2027-03-01", "1000.00"]]


# -- aging given by the other ways in: a portfolio's column, a scenario's key ---------------
#: A 90-day case split in three months: 3,000 owed, 1,000 of it fell due on each date.
THREE_MONTHS = "2027-01-01:1000.00;2027-02-01:1000.00;2027-03-01:1000.00"
ON_1_APRIL = shanghai(date(2027, 4, 1))
AGING_HEADER = "id,debtor_id,timezone,locale,currency,principal,due_date,stage,aging"


def aging_row(aging: str, case_id: str = "LN-A", principal: str = "3000.00") -> str:
    return f"{case_id},D-1,Asia/Shanghai,zh-CN,CNY,{principal},2027-01-01,notified,{aging}"


def portfolio(folder: Any, *rows: str, suffix: str = ".csv") -> Any:
    path = folder / f"portfolio{suffix}"
    path.write_text("\n".join([AGING_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


class TestAgingImported:
    """A portfolio's ``aging`` column: ``date:amount`` items separated by ``;``."""

    def test_one_instalment_paid_leaves_59_days_past_due(self, tmp_path: Any) -> None:
        from arrears.importer import import_portfolio

        engine = Engine(clock=SettableClock(ON_1_APRIL))
        report = import_portfolio(engine, portfolio(tmp_path, aging_row(THREE_MONTHS)))
        assert (report.imported, report.errors) == (1, [])
        case = engine.case("LN-A")
        assert case.days_past_due(ON_1_APRIL) == 90
        engine.record_payment("LN-A", cny("1000.00"), at=ON_1_APRIL)
        case = engine.case("LN-A")
        assert aging(case) == [("2027-02-01", "1000.00"), ("2027-03-01", "1000.00")]
        assert case.days_past_due(ON_1_APRIL) == 59

    def test_an_import_run_again_finds_the_same_aging_and_names_a_changed_one(
        self, tmp_path: Any
    ) -> None:
        """Round trip: the aging is kept as given (in minor units), so the same file is
        already imported, and a row whose aging changed differs by ``aging``."""
        from arrears.importer import import_portfolio

        engine = Engine(clock=SettableClock(ON_1_APRIL))
        plain = aging_row("2027-01-01:1000;2027-02-01 : 1000.0; 2027-03-01:1000.00")
        first = import_portfolio(engine, portfolio(tmp_path, plain))
        assert first.imported == 1
        assert aging(engine.case("LN-A")) == [
            ("2027-01-01", "1000.00"),
            ("2027-02-01", "1000.00"),
            ("2027-03-01", "1000.00"),
        ]
        again = import_portfolio(engine, portfolio(tmp_path, plain))
        assert (again.imported, again.already_imported, again.conflicts) == (0, 1, [])
        changed = aging_row("2027-01-01:2000.00;2027-03-01:1000.00")
        differs = import_portfolio(engine, portfolio(tmp_path, changed))
        assert [(c.line, c.field) for c in differs.conflicts] == [(2, "aging")]
        lines = '{"id": "LN-B", "debtor_id": "D-2", "currency": "CNY", "principal": "3000.00", '
        lines += f'"due_date": "2027-01-01", "aging": "{THREE_MONTHS}"}}\n'
        jsonl = tmp_path / "more.jsonl"
        jsonl.write_text(lines, encoding="utf-8")
        assert import_portfolio(engine, jsonl).imported == 1
        assert len(engine.case("LN-B").aging or ()) == 3

    @pytest.mark.parametrize(
        ("aging_column", "expected"),
        [
            ("2027-01-01=3000.00", "item 1: got '2027-01-01=3000.00', expected YYYY-MM-DD:amount"),
            ("2027-01-01:1000.00;2027-02-30:2000.00", "item 2: got '2027-02-30', not a date"),
            ("2027-01-01:1000.00;2027-02-01:2e3", "item 2: got '2e3': written with an exponent"),
            ("2027-01-01:3000.00;", "item 2: got '', expected YYYY-MM-DD:amount"),
            (
                "2027-01-01:1000.00;2027-02-01:1000.00",
                "amounts summing to the arrears, 3000.00 (they sum to 2000.00)",
            ),
            ("2027-02-01:1000.00;2027-01-01:2000.00", "each due date once, oldest first"),
            ("2027-01-01:1000.00;2027-02-01:1999.995;2027-03-01:0.005", "CNY's minor units"),
            ("2026-12-01:1000.00;2027-02-01:2000.00", "the oldest date to be the due date"),
        ],
    )
    def test_a_bad_aging_is_named_by_row_column_and_value(
        self, tmp_path: Any, aging_column: str, expected: str
    ) -> None:
        from arrears.importer import import_portfolio

        engine = Engine(clock=SettableClock(ON_1_APRIL))
        good_row = aging_row(THREE_MONTHS, case_id="LN-OK")
        report = import_portfolio(engine, portfolio(tmp_path, good_row, aging_row(aging_column)))
        assert report.imported == 0  # checked before anything is opened
        assert [(error.line, error.field) for error in report.errors] == [(3, "aging")]
        assert expected in report.errors[0].message, report.errors[0].message
        assert list(engine.store.case_ids()) == []


SCENARIO = """\
name: aged
rules: [CN]
case:
  id: LN-A
  timezone: Asia/Shanghai
  currency: CNY
  balance: "3000.00"
  due_date: 2027-01-01
  contacts:
    - {{id: mobile, channel: call, party: debtor, address: "+8613812345678"}}
{aging}events: []
expect:
  - at: 2027-04-01T10:00:00+08:00
    contact: {{channel: call, contact: mobile}}
    verdict: allow
"""


class TestAgingInAScenario:
    """A scenario's case key ``aging``: ``[date, amount]`` pairs, oldest first."""

    def opened(self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, aging_key: str) -> Case:
        from arrears.scenarios import run_scenario

        opened: list[Case] = []
        open_case = Engine.open_case

        def spy(engine: Engine, *args: Any, **kwargs: Any) -> Any:
            result = open_case(engine, *args, **kwargs)
            opened.append(engine.case("LN-A"))
            return result

        monkeypatch.setattr(Engine, "open_case", spy)
        path = tmp_path / "aged.yaml"
        path.write_text(SCENARIO.format(aging=aging_key), encoding="utf-8")
        run_scenario(path)
        return opened[0]

    def test_the_case_keeps_the_aging_given(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        key = (
            "  aging:\n    - [2027-01-01, '1000.00']\n    - [2027-02-01, '1000.00']\n"
            "    - [2027-03-01, '1000']\n"
        )
        case = self.opened(tmp_path, monkeypatch, key)
        assert aging(case)[1:] == [("2027-02-01", "1000.00"), ("2027-03-01", "1000.00")]
        assert case.days_past_due(ON_1_APRIL) == 90
        without = self.opened(tmp_path, monkeypatch, "")
        assert aging(without) == [("2027-01-01", "3000.00")]

    def test_an_aging_not_summing_to_the_balance_is_refused_naming_it(
        self, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from arrears.scenarios import ScenarioInvalid

        key = "  aging:\n    - [2027-01-01, '1000.00']\n    - [2027-02-01, '1000.00']\n"
        with pytest.raises(ScenarioInvalid, match="aging") as refused:
            self.opened(tmp_path, monkeypatch, key)
        assert "3000.00" in str(refused.value)
