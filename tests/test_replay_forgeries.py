"""Forged entries the application's database role could append, found on replay.

Whoever holds the application's grants (journal: ``SELECT, INSERT``; cases:
``UPDATE``) can append an entry sealed on a chain's head and save the case as
its replay stands after it: the hash chain holds.  Replay applies what an entry
records; `verify` must find an entry whose figures are not those the engine
works out for it (`arrears.refigure`), as a ``forbidden`` problem at its
position, on SQLite and PostgreSQL alike, and never one the engine wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from _postgres import Database
from arrears import (
    Actor,
    ApprovalLimits,
    Balance,
    Case,
    Channel,
    ContactPoint,
    Debtor,
    Engine,
    Money,
    SettableClock,
)
from arrears.errors import ArrearsError
from arrears.events import apply_entry
from arrears.journal import seal
from arrears.store import Store

Stores = Callable[[], Store]


@pytest.fixture
def stores(sql_database: Database) -> Stores:
    """A maker of stores on one database, SQLite or PostgreSQL (each closed afterwards)."""
    return sql_database.open


def _case(case_id: str, debtor: str = "D-1", principal: str = "5000.00") -> Case:
    return Case(
        id=case_id,
        debtor=Debtor(id=debtor, timezone=ZoneInfo("Asia/Shanghai")),
        contacts=(ContactPoint(id="mobile", channel=Channel.SMS, address="+8613800000009"),),
        balance=Balance(currency="CNY", principal=principal, penalty="50.00"),
        due_date=date(2026, 8, 1),
    )


def _append_as_the_application(engine: Engine, case_id: str, kind: str, data: Any) -> None:
    """What the application's database role can do (journal: ``SELECT, INSERT``; cases:
    ``UPDATE``): append one entry sealed on the chain's head and save the case as its
    replay stands after it."""
    last = engine.store.last_entry(case_id)
    case = engine.store.get(case_id)
    at = max(last.at + timedelta(minutes=1), engine.clock.now())
    apply_entry(case, kind, at, data)
    engine.store.append(seal(case_id, last.seq + 1, at, kind, data, last.hash), case)


def _append_raw(engine: Engine, case_id: str, kind: str, data: Any) -> None:
    """As `_append_as_the_application`, the case saved as its replay stands after the entry
    where the entry applies at all, else left as it was."""
    last = engine.store.last_entry(case_id)
    case = engine.store.get(case_id)
    at = max(last.at + timedelta(minutes=1), engine.clock.now())
    try:
        apply_entry(case, kind, at, data)
    except (ArrearsError, ValueError):
        engine.store.append(seal(case_id, last.seq + 1, at, kind, data, last.hash))
        return
    engine.store.append(seal(case_id, last.seq + 1, at, kind, data, last.hash), case)


def _verified(stores: Stores, clock: SettableClock) -> list[tuple[str, int, str, str]]:
    """What `verify` finds from a store opened afresh, a day later."""
    engine = Engine(store=stores(), clock=SettableClock(clock.now() + timedelta(days=1)))
    return [(p.case_id, p.position, p.problem, p.detail) for p in engine.verify()]


# -- the forgeries --------------------------------------------------------------------------


def test_a_payment_that_clears_more_than_its_amount_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "1.00",
        "currency": "CNY",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "credit": "0.00",
        "reference": "bank-1",
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert str(Engine(store=stores(), clock=clock).case("LN-1").balance.arrears) == "0.00 CNY"
    assert _verified(stores, clock) == [
        (
            "LN-1",
            1,
            "forbidden",
            "seq 1: a payment records applied {'penalty': '50.00', 'principal': '5000.00'}, "
            "but its amount 1.00 allocated over the overdue components as they stood gives "
            "{'penalty': '1.00'}",
        )
    ]


def test_a_waiver_beyond_its_own_recorded_limit_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "1.00",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "basis": "actor",
        "limit": "10.00",
        "actor": "agent-1",
        "approver": None,
    }
    _append_as_the_application(engine, "LN-1", "waiver", forged)
    assert str(Engine(store=stores(), clock=clock).case("LN-1").balance.arrears) == "0.00 CNY"
    assert [found[:3] for found in _verified(stores, clock)] == [("LN-1", 1, "forbidden")]
    # Its amount made to match what it takes off, it is still beyond the limit it records.
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-2", debtor="D-2"))
    _append_as_the_application(engine, "LN-2", "waiver", {**forged, "amount": "5050.00"})
    assert _verified(stores, clock)[1] == (
        "LN-2",
        1,
        "forbidden",
        "seq 1: the engine records no such entry: a waiver waives 5050.00, beyond the limit "
        "of 10.00 it records",
    )


def test_an_accrual_beyond_the_cases_own_caps_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["terms"] = {
        "penalty_rate": "0.0005",
        "penalty_cap": "100.00 CNY",
        "late_fee": "20.00 CNY",
        "fee_cap": "20.00 CNY",
    }
    engine.open_case(opened)
    clock.advance(days=60)
    charged = engine.accrue("LN-1")
    assert charged is not None
    assert str(charged.penalty) == "100.00 CNY"  # the cap binds
    forged = {
        "penalty": "4000.00",
        "fee": "500.00",
        "days": 1,
        "frozen_days": 0,
        "through": clock.now().date().isoformat(),
        "late_fee_for": "2026-08-01",
    }
    _append_as_the_application(engine, "LN-1", "accrual", forged)
    # 50 + 100 + 4,000: the forgery took
    assert Engine(store=stores(), clock=clock).case("LN-1").balance.penalty == Decimal("4150.00")
    assert _verified(stores, clock) == [
        (
            "LN-1",
            2,
            "forbidden",
            "seq 2: an accrual records penalty '4000.00', but the case's terms from its last "
            "accrual through 2026-11-30, with their caps and the holds and plan that freeze "
            "charges, gives '0.00'",
        )
    ]


def test_a_release_dated_back_before_a_call_under_the_hold_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    placed = clock.now()
    hold = engine.add_hold("LN-1", "bankruptcy", "stay filed")
    clock.advance(days=5)
    called = clock.now()
    engine.record_interaction("LN-1", "sms", "delivered", contact="mobile")
    assert [h.kind for h in engine.case("LN-1").active_holds(called)] == ["bankruptcy"]
    clock.advance(days=1)
    backdated = {
        "hold_id": hold.id,
        "released_at": (placed + timedelta(hours=1)).isoformat(),
        "actor": "system",
    }
    _append_as_the_application(engine, "LN-1", "hold_released", backdated)
    # the call now looks clean
    assert Engine(store=stores(), clock=clock).case("LN-1").active_holds(called) == ()
    released = clock.now()
    assert _verified(stores, clock) == [
        (
            "LN-1",
            3,
            "forbidden",
            f"seq 3: a hold's release records released_at {backdated['released_at']!r}, but "
            f"the entry's own moment gives {released.isoformat()!r}",
        )
    ]


#: Forgeries on a case just opened (CNY 5,000 principal, 50 penalty): the kind, what the
#: entry records, and what the problem's detail says of it.
OPENED_FORGERIES = [
    pytest.param(
        "payment",
        {
            "amount": "5050.00",
            "currency": "USD",
            "applied": {"principal": "5000.00", "penalty": "50.00"},
            "credit": "0.00",
        },
        "a payment records currency 'USD'",
        id="payment-in-another-currency",
    ),
    # Every figure counts: the amount is applied and credited in full, but credit is kept
    # while the principal stays owed (no order of the components allocates so).
    pytest.param(
        "payment",
        {"amount": "100.00", "currency": "CNY", "applied": {"penalty": "50.00"}, "credit": "50.00"},
        "a payment records applied {'penalty': '50.00'}, but its amount 100.00",
        id="payment-leaving-credit-while-arrears-stay",
    ),
    pytest.param(
        "hold_released",
        {"hold_id": "H-nowhere", "released_at": "2026-10-01T01:00:00+00:00", "actor": "x"},
        "a release of hold 'H-nowhere', which was not in force",
        id="release-of-a-hold-not-in-force",
    ),
]


@pytest.mark.parametrize(("kind", "forged", "detail"), OPENED_FORGERIES)
def test_a_forgery_on_an_opened_case_is_forbidden(
    stores: Stores, clock: SettableClock, kind: str, forged: dict[str, Any], detail: str
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    _append_as_the_application(engine, "LN-1", kind, forged)
    [found] = _verified(stores, clock)
    assert found[:3] == ("LN-1", 1, "forbidden")
    assert detail in found[3], found[3]


def test_credit_applied_out_of_the_engines_order_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    """The engine applies credit in the default order: penalty first."""
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["credit"] = "100.00"
    engine.open_case(opened)
    forged = {"applied": {"principal": "100.00"}}
    _append_as_the_application(engine, "LN-1", "credit_applied", forged)
    assert _verified(stores, clock) == [
        (
            "LN-1",
            1,
            "forbidden",
            "seq 1: credit applied records applied {'principal': '100.00'}, but the 100.00 CNY "
            "of credit allocated over the arrears gives {'penalty': '50.00', 'principal': "
            "'50.00'}",
        )
    ]


def test_a_settlement_paying_more_than_its_amount_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    engine.fire("LN-1", "notify")
    forged = {
        "amount": "100.00",
        "applied": {"penalty": "50.00", "principal": "950.00"},
        "waived": {"principal": "4050.00"},
        "basis": "four_eyes",
        "limit": None,
        "actor": "supervisor-1",
        "approver": "risk-1",
    }
    _append_as_the_application(engine, "LN-1", "settlement", forged)
    assert _verified(stores, clock) == [
        (
            "LN-1",
            2,
            "forbidden",
            "seq 2: a settlement records applied {'penalty': '50.00', 'principal': '950.00'}, "
            "but its amount 100.00 paid over what the case owed as it stood, the rest waived "
            "gives {'penalty': '50.00', 'principal': '50.00'}",
        )
    ]
    # Its amount made to match, the rest waived is beyond the limit it records.
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-2", debtor="D-2"))
    engine.fire("LN-2", "notify")
    beyond = {**forged, "amount": "1000.00", "basis": "actor", "limit": "100.00"}
    _append_as_the_application(engine, "LN-2", "settlement", beyond)
    assert _verified(stores, clock)[1] == (
        "LN-2",
        2,
        "forbidden",
        "seq 2: the engine records no such entry: a settlement waives 4050.00, beyond the "
        "limit of 100.00 it records",
    )


# -- what the engine records verifies ---------------------------------------------------------


def test_what_the_engine_records_verifies(stores: Stores, clock: SettableClock) -> None:
    """Payments in an order of the caller's, credit kept and applied, charges frozen by a
    hold and capped, a hold released, an instalment falling due, a waiver and a
    settlement with an approver: every figure is the one the check works out again."""
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["not_due"] = "3000.00"
    opened["terms"] = {
        "penalty_rate": "0.001",
        "penalty_cap": "120.00 CNY",
        "late_fee": "20.00 CNY",
        "fee_cap": "30.00 CNY",
    }
    engine.open_case(opened)
    hold = engine.add_hold("LN-1", "bankruptcy", "stay filed")
    clock.advance(days=10)
    engine.release_hold("LN-1", hold.id)
    clock.advance(days=20)
    engine.record_payment(
        "LN-1", Money("700.00", "CNY"), order=("principal", "interest", "fees", "penalty")
    )
    clock.advance(days=3)
    engine.accrue("LN-1")
    engine.fall_due("LN-1", Money("1000.00", "CNY"), due=clock.now().date())
    clock.advance(days=2)
    arrears = engine.arrears_at("LN-1")
    engine.record_payment("LN-1", arrears + Money("25.00", "CNY"), reference="bank-9")
    engine.fall_due("LN-1", Money("1000.00", "CNY"), due=clock.now().date())
    assert engine.case("LN-1").balance.credit == Decimal("0.00")  # the credit went on it
    limits = ApprovalLimits(limits={"agent": Money("100.00", "CNY")})
    agent, supervisor = (
        Actor("agent-1", frozenset({"agent"})),
        Actor("agent-2", frozenset({"agent"})),
    )
    engine.waive("LN-1", Money("60.00", "CNY"), actor=agent, limits=limits)
    engine.waive(
        "LN-1",
        Money("80.00", "CNY"),
        actor=Actor("agent-3", frozenset()),
        approver=supervisor,
        limits=limits,
        order=("principal", "penalty", "fees", "interest"),
    )
    kinds = [entry.kind for entry in engine.store.entries("LN-1")]
    for kind in ("hold_released", "payment", "accrual", "instalment_due", "credit_applied"):
        assert kind in kinds
    assert kinds.count("waiver") == 2
    assert _verified(stores, clock) == []


def test_a_settlement_the_engine_records_verifies(stores: Stores, clock: SettableClock) -> None:
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["not_due"] = "2000.00"
    engine.open_case(opened)
    engine.fire("LN-1", "notify")
    limits = ApprovalLimits(limits={"supervisor": Money("10000.00", "CNY")})
    engine.settle(
        "LN-1",
        Money("1500.00", "CNY"),
        actor=Actor("sup-1", frozenset({"supervisor"})),
        limits=limits,
        order=("principal", "interest", "fees", "penalty"),
    )
    settled = engine.store.entries("LN-1")
    assert [entry.kind for entry in settled][-2] == "settlement"
    assert _verified(stores, clock) == []


def test_an_engine_payment_on_a_debtor_without_a_time_zone_verifies(
    stores: Stores,
) -> None:
    """The day an accrual charges through is the debtor's; without a zone, the moment's own."""
    clock = SettableClock(datetime(2026, 10, 1, 23, 30, tzinfo=ZoneInfo("Asia/Shanghai")))
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["debtor"]["timezone"] = None
    opened["terms"] = {"penalty_rate": "0.0005"}
    engine.open_case(opened)
    clock.advance(days=3)
    engine.record_payment("LN-1", Money("100.00", "CNY"))
    assert "accrual" in [entry.kind for entry in engine.store.entries("LN-1")]
    later = SettableClock(clock.now().astimezone(UTC))
    assert _verified(stores, later) == []


# -- amounts below zero -----------------------------------------------------------------------

#: An entry of each kind that moves money, forged with an amount below zero (what the
#: application's role could append), and the paths `verify` names.
NEGATIVE: dict[str, tuple[str, dict[str, Any], str]] = {
    # Replayed, a payment of -100.00 adds 100.00 to the principal.
    "payment": (
        "payment",
        {
            "amount": "-100.00",
            "currency": "CNY",
            "applied": {"principal": "-100.00"},
            "credit": "0.00",
        },
        "amount, applied.principal",
    ),
    "payment's credit": (
        "payment",
        {"amount": "10.00", "currency": "CNY", "applied": {"penalty": "10.00"}, "credit": "-5.00"},
        "credit",
    ),
    "waiver": (
        "waiver",
        {
            "amount": "-500.00",
            "applied": {"principal": "-500.00"},
            "basis": "actor",
            "limit": "1000.00",
            "actor": "agent-1",
            "approver": None,
        },
        "amount, applied.principal",
    ),
    "settlement": (
        "settlement",
        {
            "amount": "100.00",
            "applied": {"penalty": "50.00", "principal": "50.00"},
            "waived": {"principal": "-4950.00"},
            "basis": "four_eyes",
            "limit": None,
            "actor": "supervisor-1",
            "approver": "risk-1",
        },
        "waived.principal",
    ),
    "accrual": (
        "accrual",
        {
            "penalty": "-50.00",
            "fee": "-20.00",
            "days": 1,
            "frozen_days": 0,
            "through": "2026-09-01",
            "late_fee_for": None,
        },
        "penalty, fee",
    ),
    "credit applied": (
        "credit_applied",
        {"applied": {"principal": "-100.00"}},
        "applied.principal",
    ),
    "instalment": (
        "instalment_due",
        {"amount": "-1000.00", "due": "2026-09-01", "actor": "system"},
        "amount",
    ),
    "reopening": (
        "agreement_reopened",
        {
            "agreement": "promise",
            "id": "P-1",
            "case_id": "LN-9",
            "reference": "bank-1",
            "restored": {"principal": "-5000.00"},
            "actor": "system",
            "resolved_seq": 0,
        },
        "restored.principal",
    ),
    "plan resolved": (
        "plan_resolved",
        {"plan_id": "PL-1", "status": "completed", "paid": "-1.00", "waived": {}},
        "paid",
    ),
}


@pytest.mark.parametrize("forgery", sorted(NEGATIVE))
def test_an_amount_below_zero_is_negative(
    stores: Stores, clock: SettableClock, forgery: str
) -> None:
    """Whatever else is wrong with it, the entry is named for what no engine records."""
    kind, data, paths = NEGATIVE[forgery]
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["not_due"] = "1000.00"
    engine.open_case(opened)
    _append_raw(engine, "LN-1", kind, data)
    found = _verified(stores, clock)
    assert found[0] == (
        "LN-1",
        1,
        "negative",
        f"seq 1: the {kind} records a negative amount: {paths}",
    )
    # The case saved after it may hold the amount below zero too: named as the stored case's.
    for case_id, position, problem, detail in found[1:]:
        assert (case_id, position, problem) == ("LN-1", 1, "negative")
        assert detail.startswith("the stored case holds a negative amount: balance.")


def test_a_negative_promise_share_is_negative(stores: Stores, clock: SettableClock) -> None:
    """A share counted towards the promise below zero would take from what was paid."""
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    promise = engine.record_promise("LN-1", Money("5050.00", "CNY"), date(2026, 10, 20))
    forged = {
        "amount": "100.00",
        "currency": "CNY",
        "applied": {"penalty": "50.00", "principal": "50.00"},
        "credit": "0.00",
        "promise": {"id": promise.id, "counted": "-4000.00"},
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert _verified(stores, clock) == [
        ("LN-1", 2, "negative", "seq 2: the payment records a negative amount: promise.counted"),
        ("LN-1", 2, "negative", "the stored case holds a negative amount: promise.paid"),
    ]


def test_an_entry_leaving_the_balance_below_zero_is_negative(
    stores: Stores, clock: SettableClock
) -> None:
    """Every amount it records is positive, but more falls due than was not yet due."""
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["not_due"] = "1000.00"
    engine.open_case(opened)
    forged = {"amount": "3000.00", "due": "2026-09-01", "actor": "system"}
    _append_as_the_application(engine, "LN-1", "instalment_due", forged)
    found = _verified(stores, clock)
    assert [problem[:3] for problem in found] == [
        ("LN-1", 1, "forbidden"),
        ("LN-1", 1, "negative"),
        ("LN-1", 1, "negative"),
    ]
    assert [problem[3] for problem in found[1:]] == [
        "seq 1: the instalment_due leaves balance.not_due below zero",
        "the stored case holds a negative amount: balance.not_due",
    ]


# -- forged against the newest checks ----------------------------------------------------------


@pytest.mark.parametrize("counted", ["5000.00", None])
def test_a_payment_counted_otherwise_towards_the_promise_is_forbidden(
    stores: Stores, clock: SettableClock, counted: str | None
) -> None:
    """100.00 paid that counts 5,000.00 towards the promise keeps it (no broken promise,
    no escalation); one that does not count at all breaks it: a payment counts as much of
    its amount as the open promise still awaits."""
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    promise = engine.record_promise("LN-1", Money("5050.00", "CNY"), date(2026, 10, 20))
    forged: dict[str, Any] = {
        "amount": "100.00",
        "currency": "CNY",
        "applied": {"penalty": "50.00", "principal": "50.00"},
        "credit": "0.00",
    }
    if counted is not None:
        forged["promise"] = {"id": promise.id, "counted": counted}
    _append_as_the_application(engine, "LN-1", "payment", forged)
    shown = "None" if counted is None else f"{{'id': {promise.id!r}, 'counted': {counted!r}}}"
    assert _verified(stores, clock) == [
        (
            "LN-1",
            2,
            "forbidden",
            f"seq 2: a payment records promise {shown}, but as much of its amount as the "
            f"open promise still awaited gives {{'id': {promise.id!r}, 'counted': '100.00'}}",
        )
    ]


def test_a_payment_the_engine_counts_towards_a_promise_verifies(
    stores: Stores, clock: SettableClock
) -> None:
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    engine.record_promise("LN-1", Money("3000.00", "CNY"), date(2026, 10, 20))
    engine.record_payment("LN-1", Money("1000.00", "CNY"))
    engine.record_payment("LN-1", Money("2500.00", "CNY"))  # 2,000.00 of it counted
    shares = [
        entry.data["promise"]["counted"]
        for entry in engine.store.entries("LN-1")
        if entry.kind == "payment"
    ]
    assert shares == ["1000.00", "2000.00"]
    assert _verified(stores, clock) == []


def test_an_accrual_before_the_loan_fell_due_is_forbidden(
    stores: Stores, clock: SettableClock
) -> None:
    """A late fee charged on a loan not yet due."""
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["due_date"] = "2026-12-01"
    opened["terms"] = {"penalty_rate": "0.0005", "late_fee": "20.00 CNY"}
    engine.open_case(opened)
    forged = {
        "penalty": "0.00",
        "fee": "20.00",
        "days": 0,
        "frozen_days": 0,
        "through": clock.now().date().isoformat(),
        "late_fee_for": "2026-12-01",
    }
    _append_as_the_application(engine, "LN-1", "accrual", forged)
    assert [found[:3] for found in _verified(stores, clock)] == [("LN-1", 1, "forbidden")]
    assert "an accrual records fee '20.00'" in _verified(stores, clock)[0][3]


def test_a_review_forged_far_ahead_does_not_hide_a_pushed_schedule(
    stores: Stores, clock: SettableClock
) -> None:
    """The review index pushed to 2099, and a review sealed on the chain saying so: the
    engine never records a next review further than the longest gap any policy sets after
    the review, so the journal's word does not lift the bound, and the case is
    ``unscheduled``."""
    engine = Engine(store=stores(), clock=clock)
    engine.open_case(_case("LN-1"))
    far = datetime(2099, 1, 1, tzinfo=UTC)
    said = {"policy": ["cn_consumer_loan", "1"], "next_review_at": far.isoformat(), "steps": []}
    _append_as_the_application(engine, "LN-1", "review", said)
    engine.store.schedule("LN-1", far)
    found = _verified(stores, clock)
    assert [problem[:3] for problem in found] == [("LN-1", 1, "unscheduled")]
    assert "scheduled for review at 2099-01-01T00:00:00+00:00" in found[0][3]


@pytest.mark.parametrize("amount", ["NaN", "-NaN", "sNaN"])
def test_an_amount_that_is_not_a_number_is_malformed(
    stores: Stores, clock: SettableClock, amount: str
) -> None:
    """A forged instalment of NaN is reported, where the check for amounts below zero
    stopped verify with a traceback (NaN compares with nothing)."""
    engine = Engine(store=stores(), clock=clock)
    opened = _case("LN-1").model_dump(mode="json")
    opened["balance"]["not_due"] = "1000.00"
    engine.open_case(opened)
    last = engine.store.last_entry("LN-1")
    data = {"amount": amount, "due": "2026-09-01", "actor": "system"}
    at = last.at + timedelta(minutes=1)
    engine.store.append(seal("LN-1", last.seq + 1, at, "instalment_due", data, last.hash))
    assert _verified(stores, clock) == [
        ("LN-1", 1, "malformed", "seq 1: its data cannot be applied (InvalidOperation)")
    ]
