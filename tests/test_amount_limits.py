"""Amounts an entry would push past `arrears.limits.MAX_AMOUNT`: refused when recorded.

A balance built from input is held to the limit as it is validated; the entries
the engine records change it without validating it again.  Charges accrued, a
payment returned and credit piling up could each leave a case owing more than
any `Money` holds: stored, that failed later (its arrears read, a reversal, a
copy read back from a SQL store), far from its cause.  Now the entry is refused
with `InvalidInput` naming the amount and its value, and nothing is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from arrears import Engine, InvalidInput, Money, SettableClock
from arrears.case import COMPONENTS
from arrears.limits import MAX_AMOUNT
from arrears.stores import SQLiteStore

START = datetime(2026, 12, 1, 9, tzinfo=UTC)
#: The largest amount a case may owe, in CNY.
LARGEST = MAX_AMOUNT - Decimal("0.01")


def cny(amount: Decimal | str) -> Money:
    return Money(amount, "CNY")


def huge_loan(principal: str = "900000000000000.00", **terms: Any) -> dict[str, Any]:
    """A CNY loan of *principal* overdue since 1 November, with *terms*."""
    return {
        "id": "LN-1",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {"currency": "CNY", "principal": principal},
        "due_date": "2026-11-01",
        **({"terms": terms} if terms else {}),
    }


def within(engine: Engine, case_id: str) -> None:
    """Every amount the case's balance holds, and what it owes in all, is below the limit;
    its arrears read as `Money`; the chain verifies and replays to it."""
    case = engine.case(case_id)
    balance = case.balance
    for name in (*COMPONENTS, "not_due", "credit"):
        assert getattr(balance, name) < MAX_AMOUNT
    assert case.arrears.amount + balance.not_due < MAX_AMOUNT
    assert engine.verify() == []
    assert engine.replay(case_id) == case


class TestRefused:
    def test_charges_accrued_past_the_limit(self) -> None:
        """A penalty of 1% a day for 60 days on 999,999,999,999,000: refused naming the
        sum owed and its value; the case and its chain stay as they were."""
        clock = SettableClock(START)
        engine = Engine(clock=clock)
        engine.open_case(huge_loan("999999999999000.00", penalty_rate="0.01"))
        chain = engine.history("LN-1")
        clock.set(START + timedelta(days=30))
        with pytest.raises(InvalidInput) as caught:
            engine.accrue("LN-1")
        assert caught.value.field == "balance.owed"
        assert caught.value.value == "1599999999998400.00"
        assert "the accrual would leave case LN-1" in str(caught.value)
        assert engine.history("LN-1") == chain
        assert engine.case("LN-1").arrears == cny("999999999999000.00")
        within(engine, "LN-1")

    def test_the_arrears_with_charges_past_the_limit(self) -> None:
        """`arrears_at` on the same loan a month on: the arrears with the charges due are
        past the limit, refused naming ``arrears`` and the sum."""
        clock = SettableClock(START)
        engine = Engine(clock=clock)
        engine.open_case(huge_loan("999999999999000.00", penalty_rate="0.01"))
        clock.set(START + timedelta(days=30))
        with pytest.raises(InvalidInput) as caught:
            engine.arrears_at("LN-1")
        assert caught.value.field == "arrears"
        assert caught.value.value == "1599999999998400.00"

    def test_a_penalty_no_money_holds(self) -> None:
        """A penalty whose own figure is past the limit is named ``penalty``, not as an
        anonymous ``amount``."""
        clock = SettableClock(START)
        engine = Engine(clock=clock)
        engine.open_case(huge_loan(penalty_rate="0.9"))
        clock.set(START + timedelta(days=30))
        with pytest.raises(InvalidInput) as caught:
            engine.accrue("LN-1")
        assert caught.value.field == "penalty"
        assert caught.value.value == "48600000000000000.000"
        within(engine, "LN-1")

    def test_a_cap_keeps_a_penalty_within(self) -> None:
        """The same penalty under a cap of 1,000: charged up to the cap, nothing refused."""
        clock = SettableClock(START)
        engine = Engine(clock=clock)
        engine.open_case(
            huge_loan(penalty_rate="0.9", penalty_cap={"amount": "1000.00", "currency": "CNY"})
        )
        clock.set(START + timedelta(days=30))
        charges = engine.accrue("LN-1")
        assert charges is not None
        assert charges.penalty == cny("1000.00")
        within(engine, "LN-1")

    def test_a_payment_returned_past_the_limit(self, tmp_path: Any) -> None:
        """SQLite: 400,000,000,000,000 paid on 900,000,000,000,000, then 3% a day for 30
        days charged on the rest (950,000,000,000,000 owed); the payment returned would
        owe 1,350,000,000,000,000: refused naming the sum owed, and a store opened
        afterwards reads the case back."""
        clock = SettableClock(START)
        path = tmp_path / "cases.db"
        with SQLiteStore(path) as store:
            engine = Engine(clock=clock, store=store)
            engine.open_case({**huge_loan(penalty_rate="0.03"), "due_date": "2026-12-01"})
            engine.record_payment("LN-1", cny("400000000000000.00"), reference="TX-1")
            clock.set(START + timedelta(days=30))
            engine.accrue("LN-1")
            assert engine.case("LN-1").arrears == cny("950000000000000.00")
            with pytest.raises(InvalidInput) as caught:
                engine.reverse_payment("LN-1", "TX-1")
            assert caught.value.field == "balance.owed"
            assert caught.value.value == "1350000000000000.00"
            assert "the payment_reversed would leave" in str(caught.value)
        with SQLiteStore(path) as store:
            engine = Engine(clock=clock, store=store)
            kinds = [entry.kind for entry in engine.history("LN-1")]
            assert kinds[-2:] == ["payment", "accrual"]  # no reversal stored
            within(engine, "LN-1")

    def test_credit_piling_up_past_the_limit(self) -> None:
        """Two overpayments of 600,000,000,000,000 on a case owing 100: the second would
        leave 1,199,999,999,999,900 of credit: refused naming ``balance.credit``."""
        engine = Engine(clock=SettableClock(START))
        engine.open_case(huge_loan("100.00"))
        engine.record_payment("LN-1", cny("600000000000000.00"), reference="TX-1")
        with pytest.raises(InvalidInput) as caught:
            engine.record_payment("LN-1", cny("600000000000000.00"), reference="TX-2")
        assert caught.value.field == "balance.credit"
        assert caught.value.value == "1199999999999900.00"
        within(engine, "LN-1")


def cents(most: int = 10**17 - 1) -> st.SearchStrategy[int]:
    """Amounts in cents up to *most* (the limit's, by default): of every order of
    magnitude, and often within a tenth of the limit."""
    return st.one_of(
        st.integers(most // 10, most),
        st.integers(1, 17).flatmap(lambda digits: st.integers(1, min(10**digits, most))),
    )


STEP = st.one_of(
    st.tuples(st.just("pay"), cents()),
    st.tuples(st.just("days"), st.integers(1, 40)),
    st.tuples(st.just("reverse"), st.integers(0, 9)),
    st.tuples(st.just("fall_due"), cents()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(principal=50_000_000_000_000_000, not_due=1, rate="0.2", steps=[("days", 30)])
@example(
    principal=90_000_000_000_000_000,
    not_due=1,
    rate="0.03",
    steps=[("pay", 40_000_000_000_000_000), ("days", 30), ("reverse", 0)],
)
@given(
    principal=cents(),
    not_due=cents(),
    rate=st.sampled_from(["0.0005", "0.01", "0.03", "0.2", "0.9"]),
    steps=st.lists(STEP, max_size=12),
)
def test_every_stored_amount_stays_within_the_limit(
    principal: int, not_due: int, rate: str, steps: list[tuple[str, int]]
) -> None:
    """Whatever is paid, accrued, returned and falls due on a loan of any size up to the
    limit, each step is recorded or refused whole (`InvalidInput`), and every amount the
    case holds, and what it owes in all, stays below `MAX_AMOUNT`; the chain verifies."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    balance = {
        "currency": "CNY",
        "principal": str(Decimal(principal).scaleb(-2)),
        "not_due": str(Decimal(not_due).scaleb(-2)),
    }
    terms = {"penalty_rate": rate, "late_fee": {"amount": "50.00", "currency": "CNY"}}
    assume(principal + not_due < MAX_AMOUNT * 100)  # a loan the engine opens
    engine.open_case({**huge_loan(penalty_rate=rate), "balance": balance, "terms": terms})
    paid: list[str] = []
    day = 0
    for index, (step, value) in enumerate(steps):
        before = engine.history("LN-1")
        refused: InvalidInput | None = None
        try:
            if step == "pay":
                reference = f"TX-{index}"
                engine.record_payment("LN-1", cny(Decimal(value).scaleb(-2)), reference=reference)
                paid.append(reference)
            elif step == "days":
                day += value
                clock.set(START + timedelta(days=day))
                engine.accrue("LN-1")
            elif step == "reverse" and paid:
                engine.reverse_payment("LN-1", paid.pop(value % len(paid)))
            elif step == "fall_due":
                owed = engine.case("LN-1").balance.not_due
                amount = min(Decimal(value).scaleb(-2), owed)
                if amount:
                    due = (START + timedelta(days=day)).date()
                    engine.fall_due("LN-1", cny(amount), due=due)
        except InvalidInput as error:
            refused = error
        if refused is not None:
            assert refused.field.startswith("balance.") or refused.field == "penalty"
            assert engine.history("LN-1") == before  # refused whole
        case = engine.case("LN-1")
        for name in (*COMPONENTS, "not_due", "credit"):
            assert getattr(case.balance, name) < MAX_AMOUNT
        assert case.arrears.amount + case.balance.not_due < MAX_AMOUNT
    within(engine, "LN-1")


# -- an amount past the limit already in the journal ------------------------------------------


def _forged_accrual(engine: Engine, penalty: str) -> Any:
    """An accrual of *penalty* sealed onto LN-1's chain, as an engine from before the
    refusal recorded it, or as whoever writes the database and can hash forges it."""
    from arrears.journal import seal

    last = engine.history("LN-1")[-1]
    at = last.at + timedelta(days=30)
    data = {
        "penalty": penalty,
        "fee": "0.00",
        "days": 30,
        "frozen_days": 0,
        "through": at.date().isoformat(),
        "late_fee_for": None,
    }
    return seal("LN-1", last.seq + 1, at, "accrual", data, last.hash)


@pytest.fixture
def opened_store(sql_database: Any) -> Any:
    """A way to open again one store of each SQL kind, LN-1 (900,000,000,000,000 owed)
    opened in it."""
    with sql_database.connect() as store:
        Engine(clock=SettableClock(START), store=store).open_case(huge_loan())
    return sql_database.connect


def test_verify_reports_an_accrual_past_the_limit_forged_in_the_database(
    opened_store: Any,
) -> None:
    """A journal row of an accrual of 200,000,000,000,000 on 900,000,000,000,000 owed
    (1,100,000,000,000,000 in all) written into the database, the head moved to it: the
    chain holds, and `verify` names the entry ``beyond_limit``, and the sum owed, never
    the value; `replay` refuses it."""
    from arrears import JournalCorrupted

    with opened_store() as store:
        engine = Engine(clock=SettableClock(START), store=store)
        store.append(_forged_accrual(engine, "200000000000000.00"))  # the row, and the head
    with opened_store() as store:
        engine = Engine(clock=SettableClock(START), store=store)
        problems = engine.verify()
        # Its figures are not the engine's either (no terms charge that): both are named.
        assert [(p.case_id, p.position, p.problem) for p in problems] == [
            ("LN-1", 1, "forbidden"),
            ("LN-1", 1, "beyond_limit"),
        ]
        beyond = problems[1]
        assert "balance.owed" in beyond.detail
        assert "accrual" in beyond.detail
        assert all("1100000000000000" not in p.detail for p in problems)
        with pytest.raises(JournalCorrupted) as caught:
            engine.replay("LN-1")
        assert [p.problem for p in caught.value.problems] == ["forbidden", "beyond_limit"]


def test_an_accrual_within_the_limit_verifies(opened_store: Any) -> None:
    """The same row for 99,999,999,999,999.99 (999,999,999,999,999.99 in all): within the
    limit, so only its figures (no terms charge that) are named, not its size."""
    with opened_store() as store:
        engine = Engine(clock=SettableClock(START), store=store)
        store.append(_forged_accrual(engine, "99999999999999.99"))
    with opened_store() as store:
        problems = Engine(clock=SettableClock(START), store=store).verify()
        assert [(p.case_id, p.position, p.problem) for p in problems] == [("LN-1", 1, "forbidden")]
        assert "accrual" in problems[0].detail


def test_journal_verify_names_it(tmp_path: Any) -> None:
    from click.testing import CliRunner

    from arrears.cli import main

    path = tmp_path / "cases.db"
    with SQLiteStore(path) as store:
        engine = Engine(clock=SettableClock(START), store=store)
        engine.open_case(huge_loan())
        store.append(_forged_accrual(engine, "100000000000000.00"))
    result = CliRunner().invoke(main, ["journal", "verify", "--db", str(path)])
    assert result.exit_code == 1
    assert "case 'LN-1' at 1: beyond_limit (seq 1: the accrual leaves balance.owed" in (
        result.output
    )
