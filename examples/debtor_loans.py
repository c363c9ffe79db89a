"""One borrower, three loans: a payment shared across them, a bankruptcy on one, one plan for two.

Run it with ``python examples/debtor_loans.py``.  A borrower in Chicago owes a
lender on three loans: USD 3,600.00 overdue since 10 September 2026, USD
1,200.00 since 20 September and USD 500.00 since 1 August.  Then:

* on 5 October the borrower sends USD 2,000.00 without naming a loan: the
  lender's policy shares payments oldest due first, so USD 500.00 clears the
  August loan (resolved) and USD 1,500.00 goes to the September loan; each
  loan's journal records its share under the one bank reference;
* on 7 October a bankruptcy petition is reported on the third loan: the
  automatic stay (11 U.S.C. 362(a)(6)) reaches every loan of the borrower,
  and a call about any of them is denied;
* the petition is dismissed on 20 October and the hold released on all;
* on 21 October one repayment plan covers the two open loans: USD 3,300.00 in
  three monthly instalments, the first paying the older loan;
* each instalment is paid as a payment to the borrower; the plan completes
  on both loans at once and every loan is resolved;
* the journal verifies, and every loan replayed from it equals the live one.

Only case ids, stages, dates and amounts are printed, never personal data.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog

from arrears import Actor, Engine, Money, RepaymentPlan, SettableClock, instalment_schedule
from arrears.compliance import Compliance

# Only warnings and errors: this script prints its own account of each step.
structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

CHICAGO = ZoneInfo("America/Chicago")
AGENT = Actor("agent-031", frozenset({"agent"}))
LOANS = (("LOAN-1", "3600.00", "2026-09-10"), ("LOAN-2", "1200.00", "2026-09-20"))
LOANS += (("LOAN-3", "500.00", "2026-08-01"),)


def usd(amount: str) -> Money:
    return Money(amount, "USD")


def at(day: date, hour: int = 10) -> datetime:
    """*hour* o'clock on *day* in Chicago."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHICAGO)


def main() -> int:
    clock = SettableClock(at(date(2026, 10, 5), 9))
    engine = Engine(compliance=Compliance(["US-RegF"]), clock=clock)
    for loan_id, principal, due in LOANS:
        engine.open_case(
            {
                "id": loan_id,
                "debtor": {"id": "CUST-4410", "name": "Jane Roe", "timezone": "America/Chicago"},
                "contacts": [{"id": "cell", "channel": "call", "address": "+12125550100"}],
                "balance": {"currency": "USD", "principal": principal},
                "due_date": due,
                "stage": "phone",
            }
        )
    loans = engine.store.cases_of("CUST-4410")
    print("loans:", ", ".join(f"{c} {engine.case(c).arrears}" for c in loans))

    # A payment to the borrower, not to one loan: oldest due first.
    clock.set(at(date(2026, 10, 5)))
    paid = engine.record_debtor_payment("CUST-4410", usd("2000.00"), reference="ACH-2001")
    print("payment of", paid.amount, "shared:", {c: str(m) for c, m in paid.shares.items()})
    print("stages:", {c: engine.case(c).stage for c in loans})

    # A bankruptcy reported on one loan stays collection on every loan.
    clock.set(at(date(2026, 10, 7)))
    hold = engine.add_hold("LOAN-2", "bankruptcy", "chapter 7 petition reported")
    print("bankruptcy hold on:", [c for c in loans if engine.case(c).active_holds(clock.now())])
    verdict = engine.judge_contact("LOAN-1", {"channel": "call", "contact": "cell"}, record=False)
    print("a call about LOAN-1:", verdict)
    clock.set(at(date(2026, 10, 20)))
    engine.release_hold("LOAN-1", hold.id)  # the petition was dismissed

    # One plan for the two open loans.
    clock.set(at(date(2026, 10, 21)))
    owed = engine.case("LOAN-1").arrears + engine.case("LOAN-2").arrears
    parts = instalment_schedule(owed, date(2026, 11, 15), count=3)
    plan = RepaymentPlan(id="PLAN-77", kind="minimum", instalments=parts, grace_days=5)
    whole = engine.start_plan("LOAN-1", plan, actor=AGENT, covers=["LOAN-2"])
    print(f"plan {whole.id} for {owed} over {list(whole.cases)}:")
    for loan_id in whole.cases:
        share = engine.case(loan_id).plan
        assert share is not None
        dates = ", ".join(f"{p.due.isoformat()} {p.amount.amount}" for p in share.instalments)
        print(f"  {loan_id}: {dates}")
    for number, part in enumerate(parts, 1):
        clock.set(at(part.due))
        engine.record_debtor_payment("CUST-4410", part.amount, reference=f"ACH-30{number:02d}")
    plans = {c: str(engine.case(c).plan.status) for c in whole.cases}  # type: ignore[union-attr]
    print("plan:", plans, "stages:", {c: engine.case(c).stage for c in loans})

    problems = engine.verify()
    print(f"verify(): {problems if problems else 'intact'}")
    if all(engine.replay(c) == engine.case(c) for c in loans):
        print("Every loan replayed from its journal equals the live one.")
    return 0 if not problems and {engine.case(c).stage for c in loans} == {"resolved"} else 1


if __name__ == "__main__":
    raise SystemExit(main())
