"""Waivers and settlements within approval limits per role, journaled with who approved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from arrears import (
    Actor,
    ApprovalDenied,
    ApprovalLimits,
    CurrencyMismatch,
    Engine,
    InvalidInput,
    Money,
    SettableClock,
    TransitionDenied,
)

AGENT = Actor("agent-7", frozenset({"agent"}))
SUPERVISOR = Actor("sup-3", frozenset({"supervisor"}))
OTHER_SUPERVISOR = Actor("sup-4", frozenset({"supervisor"}))
RISK = Actor("risk-9", frozenset({"risk_officer"}))
START = datetime(2027, 1, 20, 2, tzinfo=UTC)


def cny(amount: str) -> Money:
    return Money(amount, "CNY")


LIMITS = ApprovalLimits(
    limits={"agent": cny("500.00"), "supervisor": cny("5000.00")},
    four_eyes_limit=cny("20000.00"),
)


def loan(**overrides: Any) -> dict[str, Any]:
    """A CNY 12,000.00 loan with interest and a penalty, in the phone stage."""
    data: dict[str, Any] = {
        "id": "LN-12000",
        "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
        "balance": {
            "currency": "CNY",
            "principal": "12000.00",
            "interest": "360.00",
            "penalty": "240.00",
            "not_due": "6000.00",
        },
        "due_date": "2026-12-31",
        "stage": "phone",
    }
    data.update(overrides)
    return data


@pytest.fixture
def engine() -> Engine:
    engine = Engine(clock=SettableClock(START))
    engine.approval_limits = LIMITS
    return engine


@pytest.fixture
def case_id(engine: Engine) -> str:
    return engine.open_case(loan()).id


def same(engine: Engine, case_id: str) -> None:
    assert engine.replay(case_id) == engine.case(case_id)


class TestApprovalLimits:
    @pytest.mark.parametrize(
        ("amount", "actor", "approver", "basis", "limit"),
        [
            ("500.00", AGENT, None, "actor", "500.00"),
            ("3000.00", AGENT, SUPERVISOR, "approver", "5000.00"),
            ("5000.00", SUPERVISOR, None, "actor", "5000.00"),
            ("12000.00", SUPERVISOR, RISK, "four_eyes", "20000.00"),
        ],
    )
    def test_who_may_waive_what(
        self, amount: str, actor: Actor, approver: Actor | None, basis: str, limit: str
    ) -> None:
        """An agent a little, a supervisor more, two people above that up to the ceiling."""
        approval = LIMITS.authorise(cny(amount), actor, approver)
        assert (approval.basis, approval.limit) == (basis, cny(limit))
        assert approval.approver == (None if approver is None else approver.id)

    @pytest.mark.parametrize(
        ("amount", "actor", "approver", "reason"),
        [
            ("500.01", AGENT, None, "approver whose role's limit"),
            ("5000.01", SUPERVISOR, None, "second approver"),
            ("6000.00", AGENT, SUPERVISOR, "second approver"),
            ("20000.01", SUPERVISOR, RISK, "ceiling"),
        ],
    )
    def test_above_the_limits_is_denied(
        self, amount: str, actor: Actor, approver: Actor | None, reason: str
    ) -> None:
        """Each denial says what would allow it."""
        with pytest.raises(ApprovalDenied, match=reason):
            LIMITS.authorise(cny(amount), actor, approver)

    def test_approver_must_be_another_person(self) -> None:
        """Four eyes need two people."""
        with pytest.raises(InvalidInput, match="second person"):
            LIMITS.authorise(cny("9000"), SUPERVISOR, SUPERVISOR)
        same_in_capitals = Actor("SUP-3", frozenset({"supervisor"}))
        with pytest.raises(InvalidInput, match="second person"):
            LIMITS.authorise(cny("9000"), SUPERVISOR, same_in_capitals)

    def test_limits_in_one_currency(self) -> None:
        """A table mixing currencies is refused; an amount in another currency too."""
        with pytest.raises(ValueError, match="one currency"):
            ApprovalLimits(limits={"agent": cny("1"), "supervisor": Money("1", "USD")})
        with pytest.raises(CurrencyMismatch):
            LIMITS.authorise(Money("1", "USD"), AGENT)


class TestWaive:
    def test_waiver_within_the_agents_limit_is_journaled(
        self, engine: Engine, case_id: str
    ) -> None:
        """The penalty goes first; the entry holds the limit, the basis and who approved."""
        result = engine.waive(case_id, cny("300.00"), actor=AGENT, reason="hardship")
        case = engine.case(case_id)
        assert result.applied["penalty"] == cny("240.00")
        assert result.applied["interest"] == cny("60.00")
        assert case.arrears == cny("12300.00")
        entry = engine.history(case_id)[-1]
        assert entry.kind == "waiver"
        assert entry.data["limit"] == "500.00"
        assert entry.data["basis"] == "actor"
        assert (entry.data["actor"], entry.data["approver"]) == ("agent-7", None)
        same(engine, case_id)

    def test_refusal_is_journaled_and_nothing_waived(self, engine: Engine, case_id: str) -> None:
        """Above the agent's limit without approver: waiver_refused, balance unchanged."""
        before = engine.case(case_id).balance
        with pytest.raises(ApprovalDenied):
            engine.waive(case_id, cny("800.00"), actor=AGENT)
        entry = engine.history(case_id)[-1]
        assert entry.kind == "waiver_refused"
        assert (entry.data["amount"], entry.data["limit"]) == ("800.00", "500.00")
        assert engine.case(case_id).balance == before
        same(engine, case_id)

    def test_second_approver_above_every_single_limit(self, engine: Engine, case_id: str) -> None:
        """CNY 12,600.00 by two supervisors waives all arrears and cures the case."""
        result = engine.waive(case_id, cny("12600.00"), actor=SUPERVISOR, approver=OTHER_SUPERVISOR)
        assert result.approval.basis == "four_eyes"
        assert result.transition is not None
        assert engine.case(case_id).stage == "pre_due"  # 6,000.00 still to fall due
        assert engine.history(case_id)[-2].data["approver"] == "sup-4"

    def test_more_than_the_arrears_is_refused(self, engine: Engine, case_id: str) -> None:
        """A waiver beyond what is overdue raises before anything is recorded."""
        length = len(engine.history(case_id))
        with pytest.raises(InvalidInput, match="at most the arrears"):
            engine.waive(case_id, cny("13000.00"), actor=SUPERVISOR, approver=RISK)
        assert len(engine.history(case_id)) == length

    def test_no_table_no_waiver(self, case_id: str) -> None:
        """Without approval limits nobody may waive."""
        engine = Engine(clock=SettableClock(START))
        engine.open_case(loan())
        with pytest.raises(InvalidInput, match="ApprovalLimits"):
            engine.waive(case_id, cny("1.00"), actor=SUPERVISOR)


class TestSettle:
    def test_settlement_waives_the_rest_and_settles(self, engine: Engine, case_id: str) -> None:
        """CNY 15,000.00 of 18,600.00 owed: the 3,600.00 rest waived by a supervisor, settled."""
        result = engine.settle(case_id, cny("15000.00"), actor=SUPERVISOR)
        case = engine.case(case_id)
        assert result.transition is not None
        assert case.stage == "settled"
        assert case.balance.outstanding == cny("0.00")
        assert sum(p.amount for p in result.applied.values()) == 3600
        assert result.applied["not_due"] == cny("3600.00")
        entry = engine.history(case_id)[-2]
        assert entry.kind == "settlement"
        assert (entry.data["limit"], entry.data["basis"]) == ("5000.00", "actor")
        same(engine, case_id)

    def test_agent_may_not_settle(self, engine: Engine, case_id: str) -> None:
        """The workflow's settle guard needs a supervisor: refused and nothing settled."""
        with pytest.raises(TransitionDenied):
            engine.settle(case_id, cny("18500.00"), actor=AGENT)
        case = engine.case(case_id)
        assert case.stage == "phone"
        assert case.balance.outstanding == cny("18600.00")

    def test_settlement_above_the_limit_needs_four_eyes(self, engine: Engine, case_id: str) -> None:
        """Waiving 8,600.00 needs a second approver; with one it settles."""
        with pytest.raises(ApprovalDenied):
            engine.settle(case_id, cny("10000.00"), actor=SUPERVISOR)
        assert engine.case(case_id).stage == "phone"
        engine.settle(case_id, cny("10000.00"), actor=SUPERVISOR, approver=RISK)
        assert engine.case(case_id).stage == "settled"
        same(engine, case_id)
