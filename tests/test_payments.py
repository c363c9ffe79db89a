"""Payments: allocation, partial payments, credit, charges under the terms, and reversals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arrears import (
    AgreementTerms,
    Case,
    CurrencyMismatch,
    Engine,
    InvalidInput,
    Money,
    SettableClock,
    allocate,
)

#: 10:00 on 20 January 2027 in Shanghai: 20 days after the loan's due date.
START = datetime(2027, 1, 20, 2, tzinfo=UTC)
PRINCIPAL_FIRST = ("principal", "interest", "fees", "penalty")
ORDERS = st.permutations(["penalty", "fees", "interest", "principal"]).map(tuple)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


def loan(**overrides: Any) -> dict[str, Any]:
    """A CNY 12,000.00 consumer loan, 20 days overdue, with interest and a penalty."""
    data: dict[str, Any] = {
        "id": "LN-12000",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai", "locale": "zh-CN"},
        "balance": {
            "currency": "CNY",
            "principal": "12000.00",
            "interest": "360.00",
            "fees": "50.00",
            "penalty": "120.00",
        },
        "due_date": "2026-12-31",
    }
    data.update(overrides)
    return data


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(START)


@pytest.fixture
def engine(clock: SettableClock) -> Engine:
    return Engine(clock=clock)


def same(engine: Engine, case_id: str) -> None:
    """The case rebuilt from its journal equals the live one."""
    assert engine.replay(case_id) == engine.case(case_id)


def state(case: Case) -> tuple[Any, ...]:
    """Everything about a case a payment may change, without its version."""
    return (case.stage, case.balance, case.promise, case.plan, case.accrual, case.due_date)


class TestAllocationProperties:
    @given(
        payment=st.integers(1, 10**9),
        owed=st.lists(st.integers(0, 10**8), min_size=4, max_size=4),
        order=ORDERS,
    )
    def test_never_loses_or_creates_money(
        self, payment: int, owed: list[int], order: tuple[str, ...]
    ) -> None:
        """Sum in equals sum allocated plus credit, and no component is paid beyond what it owes."""
        names = ("principal", "interest", "fees", "penalty")
        owing = {
            name: Money(Decimal(v).scaleb(-2), "CNY") for name, v in zip(names, owed, strict=True)
        }
        amount = Money(Decimal(payment).scaleb(-2), "CNY")
        applied, credit = allocate(amount, owing, order)
        assert sum(p.amount for p in applied.values()) + credit.amount == amount.amount
        assert all(applied[name] <= owing[name] for name in names)
        assert credit.amount >= 0
        assert credit.is_zero or all(applied[name] == owing[name] for name in names)

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        payments=st.lists(st.integers(1, 2_000_000), min_size=1, max_size=6),
        order=ORDERS,
    )
    def test_engine_keeps_every_unit_and_replays(
        self, payments: list[int], order: tuple[str, ...]
    ) -> None:
        """Across several payments, what was owed plus credit moves by exactly what was paid."""
        engine = Engine(clock=SettableClock(START))
        case = engine.open_case(loan())
        before = case.balance.arrears.amount - case.balance.credit
        paid = Decimal(0)
        for units in payments:
            amount = Money(Decimal(units).scaleb(-2), "CNY")
            engine.record_payment(case.id, amount, order=order)
            paid += amount.amount
        after = engine.case(case.id).balance
        assert after.arrears.amount - after.credit == before - paid
        same(engine, case.id)


class TestPartialPayments:
    def test_partial_payment_keeps_the_stage(self, engine: Engine) -> None:
        """Kill Bill #2297: a partial payment neither skips a stage nor freezes escalation."""
        case_id = engine.open_case(loan()).id
        engine.fire(case_id, "notify")
        engine.fire(case_id, "escalate")
        result = engine.record_payment(case_id, cny("3000.00"))
        assert result.cured is None
        assert engine.case(case_id).stage == "sms"
        assert engine.case(case_id).arrears == cny("9530.00")
        assert engine.fire(case_id, "escalate").dest == "phone"
        same(engine, case_id)

    def test_partial_payment_is_allocated_in_the_configured_order(self, engine: Engine) -> None:
        """Principal-first pays principal before the costs of default; the default the opposite."""
        case_id = engine.open_case(loan()).id
        first = engine.record_payment(case_id, cny("200.00"), order=PRINCIPAL_FIRST)
        assert first.applied["principal"] == cny("200.00")
        assert first.applied["penalty"] == cny("0.00")
        second = engine.record_payment(case_id, cny("200.00"))
        assert second.applied["penalty"] == cny("120.00")
        assert second.applied["fees"] == cny("50.00")
        assert second.applied["interest"] == cny("30.00")

    def test_interest_is_not_lost_once_principal_is_paid(self, engine: Engine) -> None:
        """ERPNext #58220: paying all the principal leaves interest and penalty owed and overdue."""
        case_id = engine.open_case(loan()).id
        engine.fire(case_id, "notify")
        result = engine.record_payment(case_id, cny("12000.00"), order=PRINCIPAL_FIRST)
        case = engine.case(case_id)
        assert result.cured is None
        assert case.balance.principal == 0
        assert case.arrears == cny("530.00")
        assert case.stage == "notified"
        assert case.days_past_due(START) == 20

    def test_charges_are_accrued_before_the_principal_is_paid(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """ERPNext #58220: penalty interest up to the payment is charged before principal goes."""
        terms = {"penalty_rate": "0.0005"}
        case_id = engine.open_case(loan(terms=terms)).id
        engine.accrue(case_id)  # 20 days on 12,000.00 at 0.05 % a day
        assert engine.case(case_id).balance.penalty == Decimal("240.00")
        clock.advance(days=10)
        engine.record_payment(case_id, cny("12000.00"), order=PRINCIPAL_FIRST)
        case = engine.case(case_id)
        assert case.balance.principal == 0
        assert case.balance.penalty == Decimal("300.00")  # ten more days: 60.00
        assert case.balance.has_arrears
        clock.advance(days=5)
        assert engine.accrue(case_id) is not None
        assert engine.case(case_id).balance.penalty == Decimal("300.00")  # no principal, no penalty
        same(engine, case_id)

    def test_currency_mismatch_is_refused_before_anything_is_recorded(self, engine: Engine) -> None:
        """A USD payment on a CNY loan raises CurrencyMismatch and leaves the journal alone."""
        case_id = engine.open_case(loan()).id
        length = len(engine.history(case_id))
        with pytest.raises(CurrencyMismatch):
            engine.record_payment(case_id, Money("100.00", "USD"))
        assert len(engine.history(case_id)) == length


class TestCredit:
    def test_overpayment_is_held_as_credit(self, engine: Engine) -> None:
        """Paying more than the arrears cures the case and keeps the rest as credit."""
        case_id = engine.open_case(loan(stage="phone")).id
        result = engine.record_payment(case_id, cny("13000.00"))
        case = engine.case(case_id)
        assert result.credit == cny("470.00")
        assert case.balance.credit == Decimal("470.00")
        assert case.stage == "resolved"

    def test_overpayment_does_not_prepay_instalments_not_yet_due(self, engine: Engine) -> None:
        """The rest of a payment is credit; not_due stays until it falls due."""
        balance = {**loan()["balance"], "not_due": "24000.00"}
        case_id = engine.open_case(loan(balance=balance, stage="sms")).id
        engine.record_payment(case_id, cny("13530.00"))
        case = engine.case(case_id)
        assert case.balance.not_due == Decimal("24000.00")
        assert case.balance.credit == Decimal("1000.00")
        assert case.stage == "pre_due"

    def test_credit_pays_an_instalment_as_it_falls_due(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """Kill Bill #695: an instalment the credit covers leaves the case current, not overdue."""
        balance = {**loan()["balance"], "not_due": "24000.00"}
        case_id = engine.open_case(loan(balance=balance, stage="sms")).id
        engine.record_payment(case_id, cny("14530.00"))  # 2,000.00 credit
        clock.set(datetime(2027, 1, 31, 2, tzinfo=UTC))
        engine.fall_due(case_id, cny("2000.00"), due=date(2027, 1, 31))
        case = engine.case(case_id)
        assert not case.balance.has_arrears
        assert case.balance.credit == 0
        assert case.balance.not_due == Decimal("22000.00")
        assert case.stage == "pre_due"
        assert case.days_past_due(clock.now() + timedelta(days=5)) == 0
        same(engine, case_id)

    def test_credit_that_covers_the_arrears_clears_the_stage(self, engine: Engine) -> None:
        """Kill Bill #695: a case migrated with credit and arrears is cured once credit applies."""
        balance = {"currency": "CNY", "principal": "300.00", "credit": "500.00"}
        case_id = engine.open_case(loan(balance=balance, stage="sms")).id
        used = engine.apply_credit(case_id)
        case = engine.case(case_id)
        assert used is not None
        assert used.applied["principal"] == cny("300.00")
        assert used.cured is not None
        assert case.stage == "resolved"
        assert case.balance.credit == Decimal("200.00")
        same(engine, case_id)

    def test_credit_pays_a_late_fee_as_it_is_charged(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """New charges are paid from credit at once, and the case is cured."""
        terms = {"late_fee": {"amount": "50.00", "currency": "CNY"}, "late_fee_after_days": 5}
        balance = {"currency": "CNY", "principal": "300.00", "credit": "500.00"}
        case_id = engine.open_case(loan(balance=balance, stage="phone", terms=terms)).id
        engine.accrue(case_id)
        case = engine.case(case_id)
        assert case.balance.credit == Decimal("150.00")
        assert case.stage == "resolved"


class TestAccrual:
    def test_penalty_is_capped(self, engine: Engine, clock: SettableClock) -> None:
        """Penalty interest stops at the agreement's cap."""
        terms = {"penalty_rate": "0.001", "penalty_cap": {"amount": "500.00", "currency": "CNY"}}
        case_id = engine.open_case(loan(terms=terms)).id
        charges = engine.accrue(case_id)
        assert charges is not None
        assert charges.penalty == cny("240.00")  # 20 days x 12.00
        clock.advance(days=30)
        assert engine.accrue(case_id).penalty == cny("260.00")  # type: ignore[union-attr]
        clock.advance(days=30)
        assert engine.accrue(case_id).penalty == cny("0.00")  # type: ignore[union-attr]
        assert engine.case(case_id).accrual.penalty == Decimal("500.00")  # type: ignore[union-attr]

    def test_late_fee_is_charged_once_per_missed_date(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """A late fee after the days the terms allow, once only; a second run charges nothing."""
        terms = {"late_fee": {"amount": "50.00", "currency": "CNY"}, "late_fee_after_days": 15}
        case_id = engine.open_case(loan(terms=terms)).id
        assert engine.accrue(case_id).fee == cny("50.00")  # type: ignore[union-attr]
        length = len(engine.history(case_id))
        engine.accrue(case_id)
        assert len(engine.history(case_id)) == length
        clock.advance(days=40)
        assert engine.accrue(case_id).fee == cny("0.00")  # type: ignore[union-attr]
        assert engine.case(case_id).balance.fees == Decimal("100.00")  # 50.00 before, one fee

    def test_breathing_space_freezes_charges(self, engine: Engine, clock: SettableClock) -> None:
        """Days under a breathing-space hold add no penalty interest; a dispute does not freeze."""
        terms = {"penalty_rate": "0.0005"}
        case_id = engine.open_case(loan(terms=terms)).id
        engine.accrue(case_id)
        engine.add_hold(case_id, "breathing_space", "debt advice", until=START + timedelta(days=60))
        clock.advance(days=10)
        charges = engine.accrue(case_id)
        assert charges is not None
        assert (charges.days, charges.frozen_days, charges.penalty) == (0, 10, cny("0.00"))
        engine.add_hold(case_id, "dispute", "amount disputed")
        clock.set(START + timedelta(days=70))
        charges = engine.accrue(case_id)
        assert charges is not None
        assert (charges.days, charges.frozen_days) == (10, 50)
        assert charges.penalty == cny("60.00")
        same(engine, case_id)

    def test_terms_refuse_floats_and_foreign_caps(self) -> None:
        """A float rate and caps in two currencies are refused."""
        with pytest.raises(ValueError, match="penalty_rate"):
            AgreementTerms(penalty_rate=0.0005)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="one currency"):
            AgreementTerms(penalty_cap=Money("1", "CNY"), late_fee=Money("1", "USD"))

    def test_terms_in_another_currency_are_refused(self, engine: Engine) -> None:
        """A case whose terms are in USD while it owes CNY does not open."""
        terms = {"late_fee": {"amount": "35.00", "currency": "USD"}}
        with pytest.raises(ValueError, match="terms"):
            engine.open_case(loan(terms=terms))


class TestReversal:
    def test_reversal_restores_the_exact_balance(self, engine: Engine) -> None:
        """A returned partial payment owes again exactly what it paid."""
        case_id = engine.open_case(loan(stage="sms")).id
        before = engine.case(case_id)
        engine.record_payment(case_id, cny("1000.00"), reference="BANK-1")
        reversal = engine.reverse_payment(case_id, "BANK-1", reason="returned by the bank")
        after = engine.case(case_id)
        assert state(after) == state(before)
        assert reversal.reopened is None
        assert sum(p.amount for p in reversal.restored.values()) == Decimal("1000.00")
        same(engine, case_id)

    def test_reversal_reopens_a_cured_case(self, engine: Engine) -> None:
        """A reversed payment that cured the case puts it back in its stage, with its arrears."""
        case_id = engine.open_case(loan(stage="phone")).id
        before = engine.case(case_id)
        result = engine.record_payment(case_id, cny("13000.00"), reference="BANK-2")
        assert result.cured is not None
        assert engine.case(case_id).stage == "resolved"
        reversal = engine.reverse_payment(case_id, "BANK-2")
        assert reversal.reopened == ("resolved", "phone")
        assert reversal.credit == cny("470.00")
        assert state(engine.case(case_id)) == state(before)
        assert engine.history(case_id)[-1].kind == "payment_reversed"
        same(engine, case_id)

    def test_reversing_an_earlier_payment_reopens_a_case_a_later_one_cured(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """1,000 paid on Monday, 12,000 on Tuesday cure the case (12,530 owed: 470 left as
        credit); Monday's bounces.  The cure stood on both: the case is back in its stage,
        not left resolved (a terminal stage no review looks at again) with arrears, and
        owes 530: the 470 of credit pays the 1,000 owed again at once, so the debtor is
        not asked for money their credit covers."""
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("1000.00"), reference="MON")
        clock.set(START + timedelta(days=1))
        assert engine.record_payment(case_id, cny("12000.00"), reference="TUE").cured
        assert engine.case(case_id).stage == "resolved"
        clock.set(START + timedelta(days=2))
        reversal = engine.reverse_payment(case_id, "MON", reason="returned by the bank")
        assert reversal.reopened == ("resolved", "phone")
        assert reversal.credit == cny("470.00")
        case = engine.case(case_id)
        assert (case.stage, case.arrears, case.balance.credit) == (
            "phone",
            cny("530.00"),
            Decimal("0.00"),
        )
        same(engine, case_id)

    def test_reversing_an_earlier_payment_the_credit_covers_leaves_the_cure(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """The later payment overpaid by more than the bounced one: the case stays resolved."""
        case_id = engine.open_case(loan(stage="phone")).id
        engine.record_payment(case_id, cny("100.00"), reference="MON")
        clock.set(START + timedelta(days=1))
        assert engine.record_payment(case_id, cny("13000.00"), reference="TUE").cured
        credit = engine.case(case_id).balance.credit
        assert credit > Decimal("100.00")
        clock.set(START + timedelta(days=2))
        assert engine.reverse_payment(case_id, "MON").reopened is None
        assert engine.case(case_id).stage == "resolved"
        same(engine, case_id)

    def test_reversal_takes_back_credit_spent_since(
        self, engine: Engine, clock: SettableClock
    ) -> None:
        """Credit from a returned payment that paid a later instalment is owed again."""
        balance = {**loan()["balance"], "not_due": "24000.00"}
        case_id = engine.open_case(loan(balance=balance, stage="sms")).id
        engine.record_payment(case_id, cny("15530.00"), reference="BANK-3")
        clock.set(datetime(2027, 1, 31, 2, tzinfo=UTC))
        engine.fall_due(case_id, cny("2000.00"), due=date(2027, 1, 31))
        engine.reverse_payment(case_id, "BANK-3")
        case = engine.case(case_id)
        assert case.arrears == cny("14530.00")
        assert case.balance.credit == 0
        assert case.balance.not_due == Decimal("22000.00")
        same(engine, case_id)

    def test_unknown_or_repeated_reversal_is_refused(self, engine: Engine) -> None:
        """No such payment, or one already reversed, raises InvalidInput naming the reference."""
        case_id = engine.open_case(loan()).id
        engine.record_payment(case_id, cny("10.00"), reference="BANK-4")
        with pytest.raises(InvalidInput, match="BANK-9"):
            engine.reverse_payment(case_id, "BANK-9")
        engine.reverse_payment(case_id, "BANK-4")
        with pytest.raises(InvalidInput, match="not already reversed"):
            engine.reverse_payment(case_id, "BANK-4")

    @settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(
        earlier=st.lists(st.integers(1, 1_500_000), max_size=3),
        units=st.integers(1, 2_000_000),
        stage=st.sampled_from(["pre_due", "notified", "sms", "phone", "promise"]),
        not_due=st.sampled_from(["0", "6000.00"]),
    )
    def test_reversal_right_after_restores_the_previous_state(
        self, earlier: list[int], units: int, stage: str, not_due: str
    ) -> None:
        """Whatever came before, reversing the last payment gives back the case as it was."""
        engine = Engine(clock=SettableClock(START))
        balance = {**loan()["balance"], "not_due": not_due}
        # The promise stage runs on a promise: a case opens there only carrying one.
        promised = {
            "id": "P-1",
            "made_at": "2026-09-09T10:00:00+08:00",
            "instalments": [
                {"due": "2027-01-20", "amount": {"amount": "500.00", "currency": "CNY"}}
            ],
        }
        more = {"promise": promised} if stage == "promise" else {}
        case_id = engine.open_case(loan(balance=balance, stage=stage, **more)).id
        for n, value in enumerate(earlier):
            engine.record_payment(
                case_id, Money(Decimal(value).scaleb(-2), "CNY"), reference=f"E{n}"
            )
        before = engine.case(case_id)
        engine.record_payment(case_id, Money(Decimal(units).scaleb(-2), "CNY"), reference="LAST")
        engine.reverse_payment(case_id, "LAST")
        assert state(engine.case(case_id)) == state(before)
        same(engine, case_id)
