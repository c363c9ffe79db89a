"""Time `verify` with and without working each entry's figures out again, in one run.

    python bench/verify_figures.py [--cases N] [--rounds R] [--contacts K]

Every case is a loan with terms (penalty interest, a late fee, caps) that
lives the life whose entries `arrears.refigure` judges: a hold placed and
released, charges accrued, a payment in an order of the caller's, an
instalment falling due and paid from credit, a payment in full that leaves
credit, a waiver within the agent's limit: eleven entries, nine of them
judged.  With *K* contacts, each case also records *K* text messages
delivered, entries the check passes over (a case's chain is mostly reviews,
messages and calls).  `verify` is timed on the same
store with the check (what it does now) and with it switched off (the kinds it
judges emptied: what it did before), alternately, *R* rounds each; the best
time of each and their ratio are printed as JSON.
"""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from datetime import UTC, datetime
from time import perf_counter

import arrears.workflow as workflow
import run
from arrears import Actor, ApprovalLimits, Engine, Money, SettableClock
from arrears.refigure import REFIGURED
from arrears.tuning import collector_paused

START = datetime(2026, 10, 1, 1, tzinfo=UTC)
ORDER = ("principal", "interest", "fees", "penalty")


def build(cases: int, contacts: int = 0) -> Engine:
    """An in-memory engine holding *cases* loans, each with the life the docstring gives."""
    clock = SettableClock(START)
    engine = Engine(clock=clock)
    limits = ApprovalLimits(limits={"agent": Money("100.00", "CNY")})
    agent = Actor("agent-1", frozenset({"agent"}))
    for number in range(cases):
        clock.set(START)
        case_id = f"LN-{number}"
        engine.open_case(
            {
                "id": case_id,
                "debtor": {"id": f"D-{number}", "timezone": "Asia/Shanghai"},
                "balance": {"currency": "CNY", "principal": "2000.00", "not_due": "3000.00"},
                "contacts": [{"id": "sms", "channel": "sms", "address": "+8613900001111"}],
                "due_date": "2026-09-01",
                "terms": {
                    "penalty_rate": "0.0005",
                    "penalty_cap": "200.00 CNY",
                    "late_fee": "20.00 CNY",
                    "fee_cap": "40.00 CNY",
                },
            }
        )
        hold = engine.add_hold(case_id, "bankruptcy", "stay filed")
        clock.advance(days=5)
        engine.release_hold(case_id, hold.id)
        clock.advance(days=10)
        engine.accrue(case_id)
        engine.record_payment(case_id, Money("500.00", "CNY"), order=ORDER)
        clock.advance(days=5)
        engine.fall_due(case_id, Money("1000.00", "CNY"), due=clock.now().date())
        owed = engine.arrears_at(case_id)
        engine.record_payment(case_id, owed + Money("50.00", "CNY"))
        engine.fall_due(case_id, Money("1000.00", "CNY"), due=clock.now().date())
        engine.waive(case_id, Money("30.00", "CNY"), actor=agent, limits=limits)
        for _ in range(contacts):
            clock.advance(minutes=10)
            engine.record_interaction(case_id, "sms", "delivered", contact="sms")
    return engine


def timed(engine: Engine, paused: bool) -> float:
    """Seconds `verify` took (with the collector paused, if *paused*), checking that it
    found nothing."""
    with collector_paused() if paused else nullcontext():
        started = perf_counter()
        problems = engine.verify()
        seconds = perf_counter() - started
    assert problems == [], problems[:3]
    return seconds


def main() -> None:
    """Build the cases, then time `verify` with and without the check, alternately."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--contacts", type=int, default=0)
    parser.add_argument(
        "--paused", action="store_true", help="verify with the collector paused (arrears.tuning)"
    )
    args = parser.parse_args()
    run._quiet_logs()
    engine = build(args.cases, args.contacts)
    entries = sum(len(chain) for _, chain in engine.store.chains())
    judged = REFIGURED
    with_check: list[float] = []
    without: list[float] = []
    for _ in range(args.rounds):
        setattr(workflow, "REFIGURED", frozenset())  # noqa: B010 - the kinds judged, emptied
        without.append(timed(engine, args.paused))
        setattr(workflow, "REFIGURED", judged)  # noqa: B010
        with_check.append(timed(engine, args.paused))
    print(
        json.dumps(
            {
                "cases": args.cases,
                "contacts": args.contacts,
                "collector_paused": args.paused,
                "entries": entries,
                "judged_entries": sum(
                    1
                    for _, chain in engine.store.chains()
                    for entry in chain
                    if entry.kind in judged
                ),
                "verify_seconds": round(min(with_check), 4),
                "without_check_seconds": round(min(without), 4),
                "ratio": round(min(with_check) / min(without), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
