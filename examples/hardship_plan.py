"""A hardship story: a borrower loses their job, gets an extension plan, misses one instalment,
catches up and completes.

Run it with ``python examples/hardship_plan.py``.  A CNY 12,000.00 consumer
loan in Shanghai falls overdue on 31 December 2026.  The agreement charges
0.05 % penalty interest a day and a CNY 50.00 late fee.  Then:

* the borrower promises CNY 2,000.00 by 25 January, pays CNY 800.00 and the
  promise is judged partly kept: the case goes back to the phone stage;
* on the call the agent asks about the hardship (a lost job), records the
  proof of income the extension plan needs, and starts a six-month plan that
  freezes penalty interest; the plan falls due on the 31st, so February's
  instalment is due on the 28th;
* the February instalment is missed, recorded late, and paid within the
  ten days of grace; every later instalment is paid and the plan completes:
  the case is resolved;
* the journal verifies, and the case replayed from it equals the live one.

Only the case id, stages, dates and amounts are printed, never personal data.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import structlog

from arrears import (
    Actor,
    Engine,
    Money,
    RepaymentPlan,
    SettableClock,
    instalment_schedule,
)

# Only warnings and errors: this script prints its own account of each step.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

AGENT = Actor("agent-017", frozenset({"agent"}))


def shanghai(day: date, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* in Shanghai (UTC+8), as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour - 8)


def main() -> int:
    clock = SettableClock(shanghai(date(2027, 1, 15)))
    engine = Engine(clock=clock)
    case = engine.open_case(
        {
            "id": "CN-LOAN-2027-0042",
            "debtor": {
                "id": "CUST-7781",
                "name": "王小明",
                "timezone": "Asia/Shanghai",
                "locale": "zh-CN",
            },
            "contacts": [{"id": "mobile", "channel": "call", "address": "+8613812345678"}],
            "balance": {"currency": "CNY", "principal": "12000.00"},
            "due_date": "2026-12-31",
            "stage": "phone",
            "terms": {
                "penalty_rate": "0.0005",
                "penalty_cap": {"amount": "2400.00", "currency": "CNY"},
                "late_fee": {"amount": "50.00", "currency": "CNY"},
                "late_fee_after_days": 3,
            },
        }
    )
    cid = case.id
    print(f"{cid}: {case.arrears} overdue since {case.due_date}, stage {case.stage}")

    # A promise first: CNY 2,000.00 by 25 January; only CNY 800.00 arrives.
    engine.record_promise(cid, Money("2000.00", "CNY"), date(2027, 1, 25))
    clock.set(shanghai(date(2027, 1, 24)))
    engine.record_payment(cid, Money("800.00", "CNY"), reference="WX-0124")
    clock.set(shanghai(date(2027, 1, 26)))
    promise = engine.review_promises(cid)
    assert promise is not None
    print(
        f"promise {promise.status}: paid {promise.paid_money}, short {promise.shortfall} CNY;"
        f" stage {engine.case(cid).stage}"
    )

    # The call: the borrower lost their job.  An extension plan needs proof of income.
    engine.record_document(cid, "proof_of_income", reference="DOC-UNEMPLOYMENT-0126")
    owed = engine.arrears_at(cid)
    plan = RepaymentPlan(
        id="PLAN-EXT-1",
        kind="extension",
        instalments=instalment_schedule(owed, date(2027, 1, 31), count=6),
        grace_days=10,
        freeze_interest=True,
    )
    engine.start_plan(cid, plan, actor=AGENT)
    print(f"extension plan over 6 months for {owed}; stage {engine.case(cid).stage}")
    for part in plan.instalments:
        print(f"  due {part.due.isoformat()}  {part.amount}")

    def pay(day: date, amount: Money, reference: str) -> None:
        clock.set(shanghai(day))
        engine.record_payment(cid, amount, reference=reference)

    def review(day: date) -> None:
        clock.set(shanghai(day))
        engine.accrue(cid)
        reviewed = engine.review_plan(cid)
        assert reviewed is not None
        print(f"  {day.isoformat()} review: {reviewed.status}, late {list(reviewed.late)}")

    first, second, *rest = plan.instalments
    pay(first.due, first.amount, "WX-0131")
    review(date(2027, 3, 2))  # 28 February passed unpaid: late, within grace
    pay(date(2027, 3, 6), second.amount, "WX-0306")
    review(date(2027, 3, 11))  # caught up before the grace ended: still active
    for n, part in enumerate(rest):
        pay(part.due, part.amount, f"WX-{n + 3:04d}")
        review(part.due + timedelta(days=1))

    final = engine.case(cid)
    assert final.plan is not None
    print(f"plan {final.plan.status}; stage {final.stage}; arrears {final.arrears}")
    print(f"penalty interest charged: {final.accrual.penalty if final.accrual else 0} CNY")
    problems = engine.verify()
    print(f"verify(): {problems if problems else 'intact'}")
    if engine.replay(cid) == final:
        print("The replayed case equals the live one.")
    return 0 if final.stage == "resolved" and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
