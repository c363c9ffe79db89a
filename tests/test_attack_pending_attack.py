"""Defects found by attacking the library, each a failing reproduction until it is fixed.

Each test is marked ``xfail(strict=True)``: it fails today for the reason given,
and the mark must go with the fix (a strict xfail that passes fails the run).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from arrears import Balance, Case, Channel, ContactPoint, Debtor, Engine, SettableClock
from arrears.events import apply_entry
from arrears.journal import seal

START = datetime(2026, 9, 10, 2, 0, tzinfo=UTC)


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


# -- (b) forged records `verify` accepts --------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="replay applies a payment's 'applied' as recorded, never checking it against its "
    "'amount' and 'credit': 1.00 paid clears 5,050.00 and verify finds nothing",
)
def test_a_payment_that_clears_more_than_its_amount_is_not_verified(engine: Engine) -> None:
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "1.00",
        "currency": "CNY",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "credit": "0.00",
        "reference": "bank-1",
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"  # the forgery took
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay never compares a payment's currency with the case's: 5,050.00 USD "
    "clears a CNY loan and verify finds nothing",
)
def test_a_payment_in_another_currency_is_not_verified(engine: Engine) -> None:
    engine.open_case(_case("LN-1"))
    forged = {
        "amount": "5050.00",
        "currency": "USD",
        "applied": {"principal": "5000.00", "penalty": "50.00"},
        "credit": "0.00",
    }
    _append_as_the_application(engine, "LN-1", "payment", forged)
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay applies a waiver whatever it records: 5,050.00 waived under a recorded "
    "limit of 10.00 with no approver, an amount that is not what it takes off; verify "
    "finds nothing, though the engine refuses (and journals waiver_refused) such a waiver",
)
def test_a_waiver_beyond_its_own_recorded_limit_is_not_verified(engine: Engine) -> None:
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
    assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


@pytest.mark.xfail(
    strict=True,
    reason="replay applies an accrual whatever it charges: 4,000.00 of penalty on a case whose "
    "own terms cap penalty interest at 100.00 (and a second late fee past the fee cap) "
    "verifies clean, though accrue() never charges past the cap",
)
def test_an_accrual_beyond_the_cases_own_caps_is_not_verified(
    engine: Engine, clock: SettableClock
) -> None:
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
    assert engine.case("LN-1").balance.penalty == Decimal("4150.00")
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 2)]


@pytest.mark.xfail(
    strict=True,
    reason="replay takes a hold_released's released_at as recorded; the engine always records "
    "the entry's own moment.  A release appended later but dated back to before a call "
    "made during a bankruptcy stay hides that the call was made under the stay",
)
def test_a_release_dated_back_before_a_call_under_the_hold_is_not_verified(
    engine: Engine, clock: SettableClock
) -> None:
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
    assert engine.case("LN-1").active_holds(called) == ()  # the call now looks clean
    assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 3)]


# -- (c)/(d) no day skipped, nothing sent twice: a debtor who changes time zone ----------

POLICY = Path(__file__).resolve().parents[1] / "examples" / "policies" / "cn_consumer_loan.yaml"
DUE = date(2026, 9, 30)


class _Sms:
    """An SMS adapter that notes, for each message, the debtor's days past due at sending."""

    channels = frozenset({"sms"})

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._engine = engine
        self.days_past_due: list[int] = []

    def send(self, message: Any) -> Any:
        from arrears.channels import SendResult

        engine = self._engine()
        local = engine.case(message.case_id).local_date(engine.clock.now())
        self.days_past_due.append((local - DUE).days)
        return SendResult("sent", f"p-{message.key[:8]}", "ok")

    def delivery(self, key: str) -> None:
        return None


def _hourly_run_with_a_move(start_zone: str, moved_to: str, moved_at: datetime) -> list[int]:
    """An hourly tick for ten days under the CN example policy, the debtor's time zone changed
    (`Engine.update_debtor`) at *moved_at*; the days past due of every SMS sent."""
    from arrears.policy import load_policy

    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    clock = SettableClock(start)
    holder: list[Engine] = []
    sms = _Sms(lambda: holder[0])
    engine = Engine(policy=load_policy(POLICY), channels=[sms], clock=clock)
    holder.append(engine)
    engine.open_case(
        {
            "id": "LN-1",
            "debtor": {"id": "D-1", "name": "王小明", "timezone": start_zone, "locale": "zh-CN"},
            "contacts": [{"id": "sms", "channel": "sms", "address": "+8613900001111"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": DUE.isoformat(),
        }
    )
    moved = False
    for hour in range(24 * 11):
        now = clock.set(start + timedelta(hours=hour))
        if not moved and now >= moved_at:
            engine.update_debtor("D-1", timezone=moved_to)
            moved = True
        engine.tick(now)
    return sms.days_past_due


@pytest.mark.xfail(
    strict=True,
    reason="update_debtor(timezone=...) leaves the next review where the old zone put it "
    "(operations/places.py never reschedules): moved east, the review booked for 09:30 in Los "
    "Angeles runs at 01:00 in Shanghai, its catch-up of the dpd-7 reminder is denied by CN-HOURS "
    "and journaled missed, and the reviews later that local day never send it",
)
def test_a_debtor_moved_east_still_gets_the_day_seven_reminder() -> None:
    # Los Angeles -> Shanghai at 18:00 UTC on 6 October, after that day's 09:30 review in
    # Los Angeles; the review booked for 09:30 in Los Angeles on the 7th runs at 00:30 on
    # the 8th in Shanghai.
    sent = _hourly_run_with_a_move(
        "America/Los_Angeles", "Asia/Shanghai", datetime(2026, 10, 6, 18, 0, tzinfo=UTC)
    )
    assert sent == [1, 3, 7, 10]


@pytest.mark.xfail(
    strict=True,
    reason="update_debtor(timezone=...) leaves the next review where the old zone put it: moved "
    "west after the day's review, the debtor is reviewed again on the same local day "
    "(19:00 in Los Angeles) and the dpd-7 reminder already sent is sent a second time",
)
def test_a_debtor_moved_west_is_not_sent_the_same_reminder_twice() -> None:
    # Shanghai -> Los Angeles at 03:00 UTC on 7 October, after that day's 09:30 review
    # in Shanghai (the dpd-7 reminder sent); it is 20:00 on the 6th in Los Angeles.
    sent = _hourly_run_with_a_move(
        "Asia/Shanghai", "America/Los_Angeles", datetime(2026, 10, 7, 3, 0, tzinfo=UTC)
    )
    assert sent == [1, 3, 7, 10]


# -- (e) a debtor's loans: one number written two ways ----------------------------------

MOMENT = datetime(2026, 10, 14, 14, 0, tzinfo=UTC)  # 10:00 in New York, 22:00 in Shanghai


def _two_loans(
    engine: Engine, zone: str, currency: str, channel: str, first: str, second: str
) -> None:
    """Two loans of one debtor, the same number on each as each loan system wrote it."""
    for number, address in ((1, first), (2, second)):
        engine.open_case(
            {
                "id": f"LN-{number}",
                "debtor": {"id": "D-1", "timezone": zone},
                "contacts": [{"id": f"phone-{number}", "channel": channel, "address": address}],
                "balance": {"currency": currency, "principal": "1000.00"},
                "due_date": "2026-09-01",
            }
        )


@pytest.mark.xfail(
    strict=True,
    reason="an address is kept as given (open_case takes '+86 138 1234 5678' though the "
    "importer asks for E.164) and the per-number cap across the debtor's loans compares "
    "addresses as strings: the 7th unanswered dial of the day to one mobile is allowed",
)
def test_the_per_number_dial_cap_counts_one_number_written_two_ways() -> None:
    from arrears.compliance import Compliance

    at = datetime(2026, 10, 14, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    engine = Engine(compliance=Compliance(["CN"]), clock=SettableClock(at))
    _two_loans(engine, "Asia/Shanghai", "CNY", "call", "+8613812345678", "+86 138 1234 5678")
    for minutes in range(6):
        engine.record_interaction(
            "LN-1", "call", "no_answer", contact="phone-1", at=at + timedelta(minutes=minutes)
        )
    verdict = engine.judge_contact(
        "LN-2",
        {"channel": "call", "contact": "phone-2"},
        at=at + timedelta(minutes=30),
        record=False,
    )
    assert [reason.rule for reason in verdict.reasons] == ["CN-CALLS-ATTEMPTS"]


@pytest.mark.xfail(
    strict=True,
    reason="an opt-out of a number is carried to the debtor's other loans by comparing "
    "addresses as strings: the same number written '(617) 555-0100' on the other loan is "
    "texted after the consumer opted out of texts to it (12 CFR 1006.6(e), 1006.14(h))",
)
def test_an_opt_out_of_a_number_reaches_it_written_another_way_on_another_loan() -> None:
    from arrears.compliance import Compliance

    engine = Engine(compliance=Compliance(["US-RegF"]), clock=SettableClock(MOMENT))
    _two_loans(engine, "America/New_York", "USD", "sms", "+16175550100", "(617) 555-0100")
    engine.record_opt_out("LN-1", "sms", contact="phone-1")
    verdict = engine.judge_contact(
        "LN-2",
        {"channel": "sms", "contact": "phone-2"},
        at=MOMENT + timedelta(minutes=30),
        record=False,
    )
    assert not verdict.allowed


# -- the same on PostgreSQL ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="PostgreSQL as the memory store: a payment of 1.00 appended through the store "
    "(INSERT on the journal, UPDATE of the case, both the application role's grants) "
    "that clears 5,050.00 verifies clean",
)
def test_postgres_a_payment_that_clears_more_than_its_amount_is_not_verified() -> None:
    from _postgres import store_maker

    with store_maker() as (make, _url, _schema):
        writer = Engine(store=make(), clock=SettableClock(START))
        writer.open_case(_case("LN-1"))
        forged = {
            "amount": "1.00",
            "currency": "CNY",
            "applied": {"principal": "5000.00", "penalty": "50.00"},
            "credit": "0.00",
            "reference": "bank-1",
        }
        _append_as_the_application(writer, "LN-1", "payment", forged)
        engine = Engine(store=make(), clock=SettableClock(START + timedelta(days=1)))
        assert str(engine.case("LN-1").balance.arrears) == "0.00 CNY"
        assert [(p.case_id, p.position) for p in engine.verify()] == [("LN-1", 1)]


# -- (a) the example policy, a debtor with the default locale ------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="a Debtor's locale defaults to 'en', 'arrears check' checks a CN policy's "
    "templates in 'zh' only, and the CN example's en-US SMS templates break CN-SMS and "
    "MSG-SEGMENTS: the policy checks OK, yet every review of a debtor opened without a "
    "locale fails on each reminder day (MessageRefused) and no reminder is sent",
)
def test_the_cn_example_reviews_a_debtor_opened_without_a_locale() -> None:
    from arrears.policy import load_policy
    from arrears.testing import check_policy

    assert check_policy(str(POLICY)).ok
    clock = SettableClock(datetime(2026, 10, 1, 1, 30, tzinfo=UTC))  # 09:30 in Shanghai
    holder: list[Engine] = []
    sms = _Sms(lambda: holder[0])
    engine = Engine(policy=load_policy(POLICY), channels=[sms], clock=clock)
    holder.append(engine)
    engine.open_case(
        {
            "id": "LN-1",
            "debtor": {"id": "D-1", "timezone": "Asia/Shanghai"},
            "contacts": [{"id": "sms", "channel": "sms", "address": "+8613900001111"}],
            "balance": {"currency": "CNY", "principal": "3000.00"},
            "due_date": DUE.isoformat(),
        }
    )
    errors = []
    for _ in range(8):
        errors += engine.tick(clock.now()).errors
        clock.advance(days=1)
    assert errors == []
    assert sms.days_past_due == [1, 3, 7]
