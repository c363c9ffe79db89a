"""A payment to a debtor refused: the error says why (the currency, or the disputes)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from arrears import Engine, InvalidInput, Money, SettableClock

START = datetime(2026, 10, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def loan(case_id: str) -> dict[str, object]:
    return {
        "id": case_id,
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
        "contacts": [{"id": "s", "channel": "sms", "address": "+8613900001111"}],
        "balance": {"currency": "CNY", "principal": "1000.00"},
        "due_date": "2026-09-01",
    }


def test_a_debtor_whose_every_loan_is_disputed_is_told_so_not_of_the_currency() -> None:
    engine = Engine(clock=SettableClock(START))
    engine.open_cases([loan("L-1"), loan("L-2")])
    engine.add_hold("L-1", "dispute", "both loans disputed in writing", reach="debtor")
    with pytest.raises(InvalidInput) as refused:
        engine.record_debtor_payment("D-1", Money(Decimal("100.00"), "CNY"), reference="B-1")
    assert refused.value.field == "amount"
    assert "dispute hold" in str(refused.value)
    assert "currency of one of" not in str(refused.value)
    with pytest.raises(InvalidInput, match="in the currency of one of the debtor's open cases"):
        engine.record_debtor_payment("D-1", Money(Decimal("100.00"), "USD"), reference="B-2")
    assert all(entry.kind != "payment" for entry in engine.history("L-1"))
